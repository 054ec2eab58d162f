"""The SpiffWorkflow boundary: the only place SpiffWorkflow is imported.

Compiling packages (compile), one loaded workflow (instance, the facade the rest of the
engine uses), durable state, timers, the diagram conventions and the script sandbox.
"""
