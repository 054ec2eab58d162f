"""The SpiffWorkflow boundary, part two: one loaded workflow and the runner that steps it.

`Instance` is the only handle the rest of the engine has on a case's workflow: a few verbs
(fire a timer, deliver a message, cancel, retry) and `outcome()`, which answers in one typed
value what a step left behind (open tasks, timers, waits, thrown messages, the end reached, the
data). `Runner` runs instances with the sandboxed script engine and a step budget and turns
every failure into a result, never an exception.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition as SpiffErrorEventDefinition
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import outbound as outbound
from engine.bpmn import state as state
from engine.bpmn.compile import (
    HUMAN_TASKS,
    CompiledProcess,
    EngineBudgetExceeded,
    PendingTimer,
    ReadyTask,
    RunResult,
    WaitingMessage,
)
from engine.bpmn.fastflow import MppWorkflow
from engine.privacy.fields import NO_SEALING, Sealer


@dataclass(frozen=True)
class StepOutcome:
    """What a step left behind, read from the workflow once, for `engine.cases.steps` to record."""

    changes: state.Changes  # the rows to write (engine.bpmn.state)
    ready: list[ReadyTask]
    timers: list[PendingTimer]
    waits: list[WaitingMessage]
    thrown: list[tuple[str, Any]]
    data: dict[str, Any]
    finished: bool
    cancelled: bool
    end_event_id: str | None
    end_event_name: str | None


class Instance:
    """One case's SpiffWorkflow workflow with the compiled process it runs on."""

    def __init__(self, workflow: Any, compiled: CompiledProcess) -> None:
        self.raw = workflow  # for engine.bpmn.state and engine.bpmn.migrate, which store and move it
        self.compiled = compiled

    def data(self) -> dict[str, Any]:
        """Return the case data: the workflow's data once finished, else the newest task data."""
        return _data(self.raw)

    def ready(self, candidates: Iterable[UUID] | None = None) -> list[ReadyTask]:
        """List the open human tasks; `candidates` (unfinished task ids) spares a walk over the history."""
        return _ready(self.raw, self.compiled, None if candidates is None else list(candidates))

    def timers(self) -> list[PendingTimer]:
        """List the timers the workflow waits on, each with its due instant."""
        return _timers(self.raw)

    def waits(self) -> list[WaitingMessage]:
        """List the messages the workflow waits for."""
        return _waits(self.raw, self.compiled)

    def outcome(self, tracker: state.Tracker, sealer: Sealer = NO_SEALING) -> StepOutcome:
        """Answer everything a step's record needs, once per step: it takes the thrown messages and
        the changed rows, sealed by `sealer` (so `tracker` moves on to the new state)."""
        thrown = _thrown(self.raw)  # before the state is diffed: the events leave the workflow's meta
        self.raw.compact()  # the history is ours (case_event): the tree keeps what open tasks need (fastflow)
        changes = state.diff(self.raw, tracker, sealer)
        finished = _finished(self.raw)
        return StepOutcome(
            changes=changes, ready=self.ready(tracker.open), timers=self.timers(), waits=self.waits(),
            thrown=thrown, data=self.data(), finished=finished, cancelled=_cancelled(self.raw),
            end_event_id=_end_event_id(self.raw) if finished else None,
            end_event_name=_end_event_name(self.raw) if finished else None)

    def stopped_at(self) -> str:
        """Name the element a workflow that can no longer move stopped at."""
        return _stopped_at(self.raw)

    def fire_timer(self, task_id: str) -> bool:
        """Mark a waiting timer as fired (the job table, not the wall clock, decides); False if gone."""
        return _fire_timer(self.raw, task_id)

    def send_message(self, name: str, payload: dict[str, Any]) -> None:
        """Deliver a message from outside to the workflow's waiting catch events."""
        _send_message(self.raw, name, payload)

    def store(self, name: str, value: Any) -> bool:
        """Write a late answer into the case data as field `name`: into every open task, so the steps after
        them carry it (SpiffWorkflow copies a task's data to the next), and into the finished workflow's data.
        Return False when nothing of the workflow is open any more."""
        return _store(self.raw, name, value)

    def amend(self, name: str, value: Any) -> bool:
        """Write a corrected value where `store` finds nothing open: into the data of a workflow that has ended,
        or into the failed tasks of an incident (its retry runs with it). Return False when there is neither."""
        return _amend(self.raw, name, value)

    def error_catchers(self, code: str) -> list[str]:
        """Name the waiting boundary error events that would catch an error with this code."""
        return _error_catchers(self.raw, code)

    def throw_error(self, code: str, payload: dict[str, Any]) -> None:
        """Throw a BPMN error from outside (a partner's failure) to the boundary events that catch its code."""
        self.raw.send_event(BpmnEvent(SpiffErrorEventDefinition(code, code=code), payload=payload))

    def cancel(self) -> None:
        """Cancel the workflow (the case is withdrawn)."""
        self.raw.cancel()

    def take_calls(self) -> list[outbound.OutboundCall]:
        """Return and forget the outside calls the workflow's service tasks made since the last take."""
        calls = outbound.calls_of(self.raw)
        taken = list(calls)
        calls.clear()
        return taken

    def retry_failed(self) -> None:
        """Put the tasks a failed run left in ERROR back to READY, so the next run retries them."""
        for task in _error_tasks(self.raw):
            _reset_error_task(self.raw, task)


@dataclass
class Runner:
    """Runs workflows with the sandboxed script engine and a step budget."""

    script_engine: PythonScriptEngine
    step_budget: int = 10_000
    time_budget_s: float = 5.0
    _counters: dict[int, int] = field(default_factory=dict)

    def new_workflow(self, compiled: CompiledProcess, data: dict[str, Any]) -> Instance:
        """Create the workflow of a new case with its initial data in the start task."""
        workflow = MppWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=self.script_engine)
        start = next(iter(workflow.get_tasks(state=TaskState.READY)))
        start.data.update(data)
        return Instance(workflow, compiled)

    def advance(self, instance: Instance, *, resume: bool = False) -> RunResult:
        """Run engine steps until the workflow waits; turn failures into a result, not an exception.

        `resume` (a retry) first finishes what a failed step left half done: see `resume_interrupted`.
        """
        workflow = instance.raw
        result = RunResult()
        deadline = time.monotonic() + self.time_budget_s

        def count(_task: Any) -> None:
            result.steps += 1
            if result.steps > self.step_budget or time.monotonic() > deadline:
                raise EngineBudgetExceeded(
                    f"the engine stopped after {result.steps} steps: a loop or call cycle does not end"
                )

        try:
            instance.take_calls()  # calls left by a step that was rolled back are not ours
            if resume:
                _resume_interrupted(workflow)
            workflow.refresh_timers()
            workflow.do_engine_steps(did_complete_task=count)
        except EngineBudgetExceeded as exc:
            result.error_element, result.error_message = _current_element(workflow), str(exc)
        except SpiffWorkflowException as exc:
            task = getattr(exc, "task", None)
            element = task.task_spec.name if task is not None else _current_element(workflow)
            result.error_element, result.error_message = element, _describe(exc)
        except RecursionError:
            result.error_element = _current_element(workflow)
            result.error_message = "the case's task tree is too deep (a loop repeated too often)"
        except Exception as exc:  # a fault SpiffWorkflow does not wrap must still stop at the case, not the caller
            result.error_element = _waiting_element(workflow) or _current_element(workflow)
            result.error_message = f"{type(exc).__name__}: {exc}"
        return result

    def complete(self, instance: Instance, task_id: str, data: dict[str, Any]) -> RunResult:
        """Complete a ready human task with form data, then advance the workflow."""
        task = find_task(instance.raw, task_id)
        task.data.update(data)
        instance.take_calls()
        try:
            task.run()
        except SpiffWorkflowException as exc:
            failed = getattr(exc, "task", None) or task  # e.g. the timer the completed task started
            return RunResult(failed.task_spec.name, _describe(exc))
        except RecursionError:
            return RunResult(task.task_spec.name, "the case's task tree is too deep (a loop repeated too often)")
        except Exception as exc:  # as in advance: a fault SpiffWorkflow does not wrap stops at the case
            # Completing a task updates its children; the first one left unreached is where it failed.
            unreached = next((c for c in task.children if c.state == TaskState.FUTURE), task)
            return RunResult(unreached.task_spec.name, f"{type(exc).__name__}: {exc}")
        return self.advance(instance)


def _describe(exc: BaseException) -> str:
    inner = getattr(exc, "exception", None)
    if inner is not None and str(inner):
        return f"{type(inner).__name__}: {inner}"
    head = str(exc).splitlines()[0].strip() if str(exc) else type(exc).__name__
    # SpiffWorkflow wraps an expression's error without keeping it; the chain still has it.
    cause = exc.__cause__ or exc.__context__
    if cause is None or isinstance(cause, SpiffWorkflowException) or not str(cause) or str(cause) in head:
        return head
    return f"{type(cause).__name__}: {cause} ({head})"


def _waiting_element(workflow: Any) -> str | None:
    """Name the first timer or message the workflow waits on (where an unwrapped fault most likely arose)."""
    for task in list(workflow.event_manager.tasks.values()):
        if task.state == TaskState.WAITING:
            return str(task.task_spec.name)
    return None


def _current_element(workflow: Any) -> str:
    last = workflow.last_task
    return str(last.task_spec.name) if last is not None else "<process>"


def iter_tasks(workflow: Any) -> Iterator[Any]:
    """Yield every task of the workflow and its sub-workflows (never the depth-limited iterator)."""
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def find_task(workflow: Any, task_id: str) -> Any:
    """Return the task with this id, in the workflow or a sub-workflow; KeyError if absent."""
    task = workflow.get_task_from_id(UUID(task_id))
    if task is None:
        raise KeyError(task_id)
    return task


def _ready(workflow: Any, compiled: CompiledProcess, candidates: Any = None) -> list[ReadyTask]:
    """List the workflow's READY human tasks (user, manual, plain) with their metadata.

    `candidates` (task ids known to be unfinished) spares a walk over the whole history.
    """
    ready = []
    tasks = iter_tasks(workflow) if candidates is None else (workflow.get_task_from_id(t) for t in candidates)
    for task in tasks:
        if task is None:
            continue
        if task.state == TaskState.READY and isinstance(task.task_spec, HUMAN_TASKS):
            meta = compiled.tasks.get((task.workflow.spec.name, task.task_spec.name))
            if meta is not None:
                ready.append(ReadyTask(str(task.id), meta, task.data))
    return ready


def _definitions(task: Any) -> list[Any]:
    """The event definitions a waiting task listens for (an event-based gateway has several)."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def _timers(workflow: Any) -> list[PendingTimer]:
    """List the timers the workflow waits on, each with its due instant."""
    timers = []
    for task in list(workflow.event_manager.tasks.values()):
        if task.state != TaskState.WAITING:
            continue
        for definition in _definitions(task):
            if not isinstance(definition, TimerEventDefinition):
                continue
            value = task._get_internal_data("event_value")
            if isinstance(definition, CycleTimerEventDefinition) and isinstance(value, dict):
                value = value.get("next")
            if isinstance(value, str):
                try:
                    due = TimerEventDefinition.get_datetime(value)
                except ValueError:
                    continue  # never written by this platform's script engine (engine.bpmn.timers checks values)
                timers.append(PendingTimer(str(task.id), task.task_spec.name, due.astimezone(UTC)))
    return timers


def _waits(workflow: Any, compiled: CompiledProcess) -> list[WaitingMessage]:
    """List the messages the workflow waits for."""
    found = []
    for task in list(workflow.event_manager.tasks.values()):
        if task.state != TaskState.WAITING:
            continue
        for definition in _definitions(task):
            if isinstance(definition, MessageEventDefinition):
                role = _listener_role(task, compiled, definition.name)
                found.append(WaitingMessage(str(task.id), task.task_spec.name, definition.name, role))
    return found


def _listener_role(task: Any, compiled: CompiledProcess, name: str) -> str | None:
    # An event-based gateway waits on behalf of its targets: the catch event's lane decides.
    process = task.workflow.spec.name
    for target in getattr(task.task_spec, "outputs", []):
        definition = getattr(target, "event_definition", None)
        if isinstance(definition, MessageEventDefinition) and definition.name == name:
            return compiled.lane_roles.get((process, target.name))
    return compiled.lane_roles.get((process, task.task_spec.name))


def _store(workflow: Any, name: str, value: Any) -> bool:
    if workflow.completed:
        return False
    opened = [task for task in iter_tasks(workflow)
              if task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED)]
    for task in opened:
        task.data[name] = deepcopy(value)
        # The stored rows of open tasks are rewritten when their fingerprint changes (engine.bpmn.state).
        task.internal_data["stored"] = int(task.internal_data.get("stored", 0)) + 1
    if opened:
        workflow.last_task = opened[0]  # the case data is the newest task's: now one that carries the field
    return bool(opened)


def _amend(workflow: Any, name: str, value: Any) -> bool:
    if workflow.completed:
        if not workflow.data:  # cancelled before any end event: the case data was the last task's
            workflow.data.update(_data(workflow))
        workflow.data[name] = deepcopy(value)  # stored with the workflow's meta (engine.bpmn.state)
        return True
    failed = _error_tasks(workflow)
    for task in failed:
        task.data[name] = deepcopy(value)
        task.workflow.tasks.rewritten.add(task.id)  # a failed task's row is not tracked: store it again
    if failed:
        workflow.last_task = failed[0]  # the case data is the newest task's: now one that carries the field
    return bool(failed)


def _error_catchers(workflow: Any, code: str) -> list[str]:
    probe = SpiffErrorEventDefinition(code, code=code)
    waiting = [task for task in list(workflow.event_manager.tasks.values()) if task.state == TaskState.WAITING]
    return [task.task_spec.name for task in waiting
            if isinstance(task.task_spec.event_definition, SpiffErrorEventDefinition)
            and task.task_spec.event_definition == probe]


def _send_message(workflow: Any, name: str, payload: dict[str, Any]) -> None:
    """Deliver a message from outside to the workflow's waiting catch events."""
    workflow.send_event(BpmnEvent(SpiffMessageEventDefinition(name), payload=payload))


def _thrown(workflow: Any) -> list[tuple[str, Any]]:
    """Take the messages the workflow threw that nothing inside it caught."""
    return [(event.event_definition.name, event.payload) for event in workflow.get_events()
            if isinstance(event.event_definition, MessageEventDefinition)]


def _fire_timer(workflow: Any, task_id: str) -> bool:
    """Mark a waiting timer as fired (the job table, not the wall clock, decides); False if gone."""
    try:
        task = find_task(workflow, task_id)
    except KeyError:
        return False
    if task.state != TaskState.WAITING:
        return False
    definition = task.task_spec.event_definition
    if isinstance(definition, CycleTimerEventDefinition):
        value = dict(task._get_internal_data("event_value") or {})
        value["next"] = datetime(2000, 1, 1, tzinfo=UTC).isoformat()
        task._set_internal_data(event_value=value)
    else:
        task._set_internal_data(event_fired=True)
    return True


def _interrupted(workflow: Any) -> list[Any]:
    """List the tasks a failed step never reached: FUTURE, though the task before them completed.

    Completing a task updates its children; when that update raises (a timer expression that
    fails as the timer starts), the parent stays COMPLETED and the child FUTURE, and nothing
    would ever update it again.
    """
    return [t for t in iter_tasks(workflow) if t.state == TaskState.FUTURE and t.parent is not None
            and t.parent.state == TaskState.COMPLETED]


def _resume_interrupted(workflow: Any) -> None:
    """Update the tasks a failed step never reached, as completing their parent would have."""
    for task in _interrupted(workflow):
        task.task_spec._update(task)


def _stopped_at(workflow: Any) -> str:
    """Name the element a workflow that can no longer move stopped at (a waiting, ready or unreached task)."""
    for wanted in (TaskState.WAITING, TaskState.READY):
        for task in iter_tasks(workflow):
            if task.state == wanted and task.id not in workflow.subprocesses:
                return str(task.task_spec.name)
    interrupted = _interrupted(workflow)
    return str(interrupted[0].task_spec.name) if interrupted else _current_element(workflow)


def _finished(workflow: Any) -> bool:
    """Tell whether the workflow completed, checking every task (the tree iterator stops at depth 1000)."""
    if not workflow.completed:
        return False
    return not any(t.state & TaskState.NOT_FINISHED_MASK for t in iter_tasks(workflow))


def _cancelled(workflow: Any) -> bool:
    """Tell whether the workflow was cancelled (ended without success)."""
    return bool(workflow.completed and not workflow.success)


def _end_event_name(workflow: Any) -> str | None:
    """Return the name (or id) of the last end event the main process completed."""
    ends = [
        t
        for t in workflow.tasks.values()
        if isinstance(t.task_spec, EndEvent) and t.state == TaskState.COMPLETED
    ]
    if not ends:
        return None
    last = max(ends, key=lambda t: t.last_state_change)
    return str(last.task_spec.bpmn_name or last.task_spec.name)


def _end_event_id(workflow: Any) -> str | None:
    """Return the element id of the last end event the main process completed."""
    ends = [t for t in workflow.tasks.values() if isinstance(t.task_spec, EndEvent) and t.state == TaskState.COMPLETED]
    return str(max(ends, key=lambda t: t.last_state_change).task_spec.bpmn_id) if ends else None


def _data(workflow: Any) -> dict[str, Any]:
    """Return the case data: the workflow's data once finished, else the newest task data."""
    if workflow.completed and workflow.data:
        return dict(workflow.data)
    last = workflow.last_task
    return dict(last.data) if last is not None else {}


def _error_tasks(workflow: Any) -> list[Any]:
    """List the tasks left in ERROR state by a failed run."""
    return [t for t in iter_tasks(workflow) if t.state == TaskState.ERROR]


def _reset_error_task(workflow: Any, task: Any) -> None:
    """Put a failed task back to READY so the next run retries it."""
    task._set_state(TaskState.READY)
    workflow.rebuild_index()
