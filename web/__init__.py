"""Shared web plumbing for the API and the page packages: context, sessions, CSRF, templates, static files."""
