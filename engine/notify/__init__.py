"""Notifications: e-mail and partner webhooks, queued in the step's transaction."""
