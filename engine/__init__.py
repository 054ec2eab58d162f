"""The MPP engine: process packages, cases, tasks, routing, timers and persistence.

Nothing in this package knows about HTTP. Only `engine.bpmn` imports SpiffWorkflow.
Features live in subpackages (bpmn, lint, catalogue, cases, jobs, sla, documents,
notify, directory); the database, settings, errors and the runtime factory stay here.
"""
