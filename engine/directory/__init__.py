"""The directory: agencies, roles, users and memberships, accounts, actors, the audit log."""
