"""The MPP engine: process packages, cases, tasks, routing, timers and persistence.

Nothing in this package knows about HTTP. Only this package imports SpiffWorkflow.
"""
