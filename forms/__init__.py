"""JSON Schema forms: server-side validation (always) and rendering."""
