"""Small partner systems over real HTTP, started by tests (and later by `make run`)."""
