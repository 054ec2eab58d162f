"""Public web UI for applicants."""
