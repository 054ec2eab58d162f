"""The platform's script engine: the sandbox for expressions, the outbox for service tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from engine import outbound
from engine.sandbox import DEFAULT_LIMITS, Limits, SandboxEnvironment


class PlatformEnvironment(SandboxEnvironment):
    """Sandboxed expressions; service calls become queued outbound calls (see engine.outbound)."""

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        """Queue the call and return its ticket as the service task's result."""
        raw = kwargs.get("operation_params") or {}
        params = {name: spec.get("value") if isinstance(spec, dict) else spec for name, spec in raw.items()}
        return outbound.queue(str(kwargs.get("operation_name")), params)


class PlatformScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """SpiffWorkflow's engine with a service-call path whose failures name the task."""

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Run a service task's call; a failure becomes an incident on that task."""
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as exc:
            raise WorkflowTaskException(f"service call failed: {exc}", task=task, exception=exc) from exc


def make_script_engine(*, limits: Limits = DEFAULT_LIMITS, extra: Mapping[str, Any] | None = None) -> Any:
    """Build the script engine every workflow of the platform runs with."""
    return PlatformScriptEngine(environment=PlatformEnvironment(limits=limits, extra=extra))
