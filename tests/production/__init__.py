"""Production-shaped tests: several real API and worker processes on PostgreSQL."""
