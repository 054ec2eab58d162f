"""JSON API, CLI and the ASGI app."""
