"""Connectors: partner systems called over HTTP from a package's description, without Python."""
