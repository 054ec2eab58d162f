"""The platform's script engine: the sandbox for expressions, the outbox for service tasks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition

from engine.bpmn import outbound as outbound
from engine.bpmn import timers as timers
from engine.bpmn.sandbox import DEFAULT_LIMITS, Limits, SandboxEnvironment


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class PlatformEnvironment(SandboxEnvironment):
    """Sandboxed expressions; service calls become queued outbound calls (see engine.bpmn.outbound)."""

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        """Refuse: service calls are queued by the script engine on the task's own workflow."""
        raise NotImplementedError("service calls go through PlatformScriptEngine.call_service")


class PlatformScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """SpiffWorkflow's engine with a service-call path and timer values whose failures name the task."""

    def __init__(self, *, environment: PlatformEnvironment, clock: Callable[[], datetime] = _wall_clock,
                 closing: timers.Closing = timers.default_closing) -> None:
        super().__init__(environment=environment)
        self.clock, self.closing = clock, closing

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Run a service task's call; a failure becomes an incident on that task."""
        try:
            raw = kwargs.get("operation_params") or {}
            params = {name: spec.get("value") if isinstance(spec, dict) else spec for name, spec in raw.items()}
            return outbound.queue(outbound.calls_of(task.workflow), str(kwargs.get("operation_name")), params)
        except Exception as exc:
            raise WorkflowTaskException(f"service call failed: {exc}", task=task, exception=exc) from exc

    def get_error_line_number_and_content(self, script: str, err: BaseException) -> tuple[int, str]:
        """Name the failing line; a run in a worker process notes it on the exception (no traceback crosses)."""
        line = getattr(err, "script_line", None)
        if not isinstance(line, int):
            return super().get_error_line_number_and_content(script, err)  # type: ignore[no-any-return]
        lines = script.splitlines()
        return line, lines[line - 1] if 0 < line <= len(lines) else ""

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        """Evaluate an expression; a timer's value becomes the ISO string SpiffWorkflow schedules."""
        value = super().evaluate(task, expression, external_context)
        kind = _timer_kind(task, expression)
        if kind is None:
            return value
        try:
            return timers.timer_value(kind, value, engine_now=self.clock(), wall_now=_wall_clock(),
                                      closing=self.closing)
        except timers.TimerValueError as exc:
            raise WorkflowTaskException(f"timer {kind}: {exc}", task=task, exception=exc) from exc


def _timer_kind(task: Any, expression: str) -> str | None:
    """Return the timer kind when `expression` is a timer of the task's event definition(s)."""
    definition = getattr(task.task_spec, "event_definition", None)
    if definition is None:
        return None
    children = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    for child in children:
        kind = timers.kind_of(child)
        if kind is not None and child.expression == expression:
            return kind
    return None


def make_script_engine(*, limits: Limits = DEFAULT_LIMITS, extra: Mapping[str, Any] | None = None,
                       clock: Callable[[], datetime] = _wall_clock,
                       closing: timers.Closing = timers.default_closing) -> Any:
    """Build the script engine every workflow runs with (timers on `clock`, a bare date at `closing`)."""
    return PlatformScriptEngine(environment=PlatformEnvironment(limits=limits, extra=extra), clock=clock,
                                closing=closing)
