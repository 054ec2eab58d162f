"""Payments: bills of cases, a bank's virtual accounts (SNAP), payment notifications (docs/payments.md)."""
