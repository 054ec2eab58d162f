"""Lint: every check on a package before it is deployed.

`service.lint_package` runs them all; the data-flow model (dataflow, names) backs the
checks on case data.
"""
