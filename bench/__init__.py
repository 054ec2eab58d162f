"""Benchmarks (not tests): engine steps, queries at scale, HTTP under load, growth; `python -m bench`."""
