"""The SpiffWorkflow boundary: compile packages into specs and run workflows.

Everything that touches SpiffWorkflow objects lives here and in `engine.state`; the rest of
the engine sees only the small dataclasses defined below.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
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
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import ManualTask, NoneTask, UserTask
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine import conventions, outbound
from engine.errors import PackageInvalid, Problem
from engine.fastflow import MppWorkflow
from engine.package import Package

# The tasks people do: a user task (with its form), a manual task and a plain task (form optional).
# SpiffWorkflow leaves all three READY for the host; each becomes a work item of its lane's role.
HUMAN_TASKS = (UserTask, ManualTask, NoneTask)


@dataclass(frozen=True)
class TaskMeta:
    """What the platform reads from one human task (user, manual or plain task) of a diagram."""

    process_id: str
    element_id: str
    name: str
    lane: str | None
    role: str | None
    bind_organisation: str | None
    bind_user: str | None
    form: str | None
    ui_form: str | None
    sla_days: int | None
    stage: str | None
    stage_en: str | None
    notify: str | None = None  # a notification marker (engine/notify.py)


@dataclass
class CompiledProcess:
    """A deployed version parsed once and shared by every case on that version."""

    version_id: int
    key: str
    spec: Any
    subprocess_specs: dict[str, Any]
    tasks: dict[tuple[str, str], TaskMeta]
    forms: dict[str, Any]
    service: dict[str, Any]
    lane_roles: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def by_element(self) -> dict[str, TaskMeta]:
        """Index the user tasks by element id (ids are unique within a package)."""
        index = self.__dict__.get("_by_element")
        if index is None:
            index = {meta.element_id: meta for meta in self.tasks.values()}
            self.__dict__["_by_element"] = index
        return index

    def form(self, path: str | None) -> dict[str, Any] | None:
        """Return a parsed form file of the package, or None."""
        if path is None:
            return None
        value = self.forms.get(path)
        return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class ReadyTask:
    """An open user task of a running workflow."""

    task_id: str
    meta: TaskMeta
    data: dict[str, Any]


@dataclass(frozen=True)
class PendingTimer:
    """A timer event waiting in a workflow, with the wall-clock instant SpiffWorkflow holds for it.

    Every timer value is counted from the wall clock when the timer starts (engine.timers puts
    dates in that frame too); engine.steps moves it onto the engine's clock.
    """

    task_id: str
    element_id: str
    due_at: datetime


@dataclass
class RunResult:
    """What one engine run produced: an error (incident) or nothing."""

    error_element: str | None = None
    error_message: str | None = None
    steps: int = 0


class EngineBudgetExceeded(Exception):
    """The engine ran more steps than a case may take at once (loops, call cycles)."""


@dataclass
class _Routing:
    lanes: dict[str, conventions.LaneInfo] = field(default_factory=dict)
    candidate_roles: dict[str, str] = field(default_factory=dict)


def _parse_xml_files(package: Package) -> tuple[SpiffBpmnParser, _Routing]:
    routing = _Routing()
    for name in package.bpmn_files:
        root = package.xml(name)
        routing.lanes.update(conventions.read_lanes(root))
        routing.candidate_roles.update(conventions.candidate_group_roles(root))
    # Lint ran SpiffWorkflow's parser on this very package object: take its parser, do not parse again.
    parser = package.memo("spiff_parser")
    if parser is None:
        parser = SpiffBpmnParser()
        for name in package.bpmn_files:
            parser.add_bpmn_xml(package.xml(name), filename=name)
        for name in package.dmn_files:
            parser.add_dmn_xml(package.xml(name), filename=name)
    return parser, routing


def _task_meta(process_id: str, spec: Any, routing: _Routing) -> TaskMeta:
    props: dict[str, str] = spec.extensions.get("properties", {}) if hasattr(spec, "extensions") else {}
    lane = routing.lanes.get(spec.lane) if spec.lane else None
    role = lane.role if lane and lane.role else routing.candidate_roles.get(spec.name)
    sla = props.get("slaDays")
    return TaskMeta(
        process_id=process_id,
        element_id=spec.name,
        name=spec.bpmn_name or spec.name,
        lane=spec.lane,
        role=role,
        bind_organisation=lane.bind_organisation if lane else None,
        bind_user=lane.bind_user if lane else None,
        form=props.get("formJsonSchemaFilename"),
        ui_form=props.get("formUiSchemaFilename"),
        sla_days=int(sla) if sla and sla.isdigit() else None,
        stage=props.get("stage"),
        stage_en=props.get("stageEn"),
        notify=props.get("notify"),
    )


def compile_package(package: Package, *, version_id: int = 0) -> CompiledProcess:
    """Parse a package into specs and task metadata; raise PackageInvalid when it cannot run."""
    service = package.service()
    key = str(service.get("key", ""))
    try:
        parser, routing = _parse_xml_files(package)
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
    except SpiffWorkflowException as exc:
        element = getattr(exc, "id", None)
        raise PackageInvalid([Problem(getattr(exc, "file_name", "") or "<package>", element, str(exc))]) from exc
    tasks: dict[tuple[str, str], TaskMeta] = {}
    lane_roles: dict[tuple[str, str], str] = {}
    for process_spec in [spec, *subprocess_specs.values()]:
        for task_spec in process_spec.task_specs.values():
            if isinstance(task_spec, HUMAN_TASKS):
                meta = _task_meta(process_spec.name, task_spec, routing)
                tasks[(process_spec.name, task_spec.name)] = meta
            lane = routing.lanes.get(getattr(task_spec, "lane", None) or "")
            if lane is not None and lane.role:
                lane_roles[(process_spec.name, task_spec.name)] = lane.role
    forms = {}
    for name, content in package.files.items():
        if name.startswith("forms/") and name.endswith(".json"):
            forms[name] = json.loads(content)
    return CompiledProcess(version_id, key, spec, subprocess_specs, tasks, forms, service, lane_roles)


@dataclass
class Runner:
    """Runs workflows with the sandboxed script engine and a step budget."""

    script_engine: PythonScriptEngine
    step_budget: int = 10_000
    time_budget_s: float = 5.0
    _counters: dict[int, int] = field(default_factory=dict)

    def new_workflow(self, compiled: CompiledProcess, data: dict[str, Any]) -> Any:
        """Create a workflow for a new case with its initial data in the start task."""
        workflow = MppWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=self.script_engine)
        start = next(iter(workflow.get_tasks(state=TaskState.READY)))
        start.data.update(data)
        return workflow

    def advance(self, workflow: Any, *, resume: bool = False) -> RunResult:
        """Run engine steps until the workflow waits; turn failures into a result, not an exception.

        `resume` (a retry) first finishes what a failed step left half done: see `resume_interrupted`.
        """
        result = RunResult()
        deadline = time.monotonic() + self.time_budget_s

        def count(_task: Any) -> None:
            result.steps += 1
            if result.steps > self.step_budget or time.monotonic() > deadline:
                raise EngineBudgetExceeded(
                    f"the engine stopped after {result.steps} steps: a loop or call cycle does not end"
                )

        try:
            outbound.take_pending()  # calls left by a step that was rolled back are not ours
            if resume:
                resume_interrupted(workflow)
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

    def complete(self, workflow: Any, task_id: str, data: dict[str, Any]) -> RunResult:
        """Complete a ready user task with form data, then advance the workflow."""
        task = find_task(workflow, task_id)
        task.data.update(data)
        outbound.take_pending()
        try:
            task.run()
        except SpiffWorkflowException as exc:
            failed = getattr(exc, "task", None) or task  # e.g. the timer the completed task started
            return RunResult(failed.task_spec.name, _describe(exc))
        except RecursionError:
            return RunResult(task.task_spec.name, "the case's task tree is too deep (a loop repeated too often)")
        return self.advance(workflow)


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


def ready_user_tasks(workflow: Any, compiled: CompiledProcess, candidates: Any = None) -> list[ReadyTask]:
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


def pending_timers(workflow: Any) -> list[PendingTimer]:
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
                    continue  # never written by this platform's script engine (engine.timers checks values)
                timers.append(PendingTimer(str(task.id), task.task_spec.name, due.astimezone(UTC)))
    return timers


@dataclass(frozen=True)
class WaitingMessage:
    """A receive task or message catch event waiting in a workflow, with its lane's role."""

    task_id: str
    element_id: str
    name: str
    role: str | None


def waiting_messages(workflow: Any, compiled: CompiledProcess) -> list[WaitingMessage]:
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


def send_message(workflow: Any, name: str, payload: dict[str, Any]) -> None:
    """Deliver a message from outside to the workflow's waiting catch events."""
    workflow.send_event(BpmnEvent(SpiffMessageEventDefinition(name), payload=payload))


def thrown_messages(workflow: Any) -> list[tuple[str, Any]]:
    """Take the messages the workflow threw that nothing inside it caught."""
    return [(event.event_definition.name, event.payload) for event in workflow.get_events()
            if isinstance(event.event_definition, MessageEventDefinition)]


def fire_timer(workflow: Any, task_id: str) -> bool:
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


def resume_interrupted(workflow: Any) -> None:
    """Update the tasks a failed step never reached, as completing their parent would have."""
    for task in _interrupted(workflow):
        task.task_spec._update(task)


def stopped_at(workflow: Any) -> str:
    """Name the element a workflow that can no longer move stopped at (a waiting, ready or unreached task)."""
    for state in (TaskState.WAITING, TaskState.READY):
        for task in iter_tasks(workflow):
            if task.state == state and task.id not in workflow.subprocesses:
                return str(task.task_spec.name)
    interrupted = _interrupted(workflow)
    return str(interrupted[0].task_spec.name) if interrupted else _current_element(workflow)


def is_finished(workflow: Any) -> bool:
    """Tell whether the workflow completed, checking every task (the tree iterator stops at depth 1000)."""
    if not workflow.completed:
        return False
    return not any(t.state & TaskState.NOT_FINISHED_MASK for t in iter_tasks(workflow))


def was_cancelled(workflow: Any) -> bool:
    """Tell whether the workflow was cancelled (ended without success)."""
    return bool(workflow.completed and not workflow.success)


def end_event_reached(workflow: Any) -> str | None:
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


def end_event_id(workflow: Any) -> str | None:
    """Return the element id of the last end event the main process completed."""
    ends = [t for t in workflow.tasks.values() if isinstance(t.task_spec, EndEvent) and t.state == TaskState.COMPLETED]
    return str(max(ends, key=lambda t: t.last_state_change).task_spec.bpmn_id) if ends else None


def case_data(workflow: Any) -> dict[str, Any]:
    """Return the case data: the workflow's data once finished, else the newest task data."""
    if workflow.completed and workflow.data:
        return dict(workflow.data)
    last = workflow.last_task
    return dict(last.data) if last is not None else {}


def error_tasks(workflow: Any) -> list[Any]:
    """List the tasks left in ERROR state by a failed run."""
    return [t for t in iter_tasks(workflow) if t.state == TaskState.ERROR]


def reset_error_task(workflow: Any, task: Any) -> None:
    """Put a failed task back to READY so the next run retries it."""
    task._set_state(TaskState.READY)
    workflow.rebuild_index()
