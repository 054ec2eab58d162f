"""The SpiffWorkflow boundary, part one: compile packages into specs and task metadata.

`engine.bpmn.instance` runs the compiled specs (one `Instance` per loaded workflow); `engine.bpmn.state`
persists them. The rest of the engine sees only the small dataclasses defined here and there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import ManualTask, NoneTask, UserTask

from engine.bpmn import conventions as conventions
from engine.catalogue.package import Package
from engine.errors import PackageInvalid, Problem

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
    notify: str | None = None  # a notification marker (engine/notify/service.py)
    sla_clock: str | None = None  # slaClock: "paused" stops the SLA clock, "running" keeps it (engine/sla/clock.py)
    bind_agency: str | None = None  # the lane's bindAgency data key (assignment.py)


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

    Every timer value is counted from the wall clock when the timer starts (engine.bpmn.timers puts
    dates in that frame too); engine.cases.steps moves it onto the engine's clock.
    """

    task_id: str
    element_id: str
    due_at: datetime


@dataclass(frozen=True)
class WaitingMessage:
    """A receive task or message catch event waiting in a workflow, with its lane's role."""

    task_id: str
    element_id: str
    name: str
    role: str | None


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
        bind_agency=lane.bind_agency if lane else None,
        form=props.get("formJsonSchemaFilename"),
        ui_form=props.get("formUiSchemaFilename"),
        sla_days=int(sla) if sla and sla.isdigit() else None,
        stage=props.get("stage"),
        stage_en=props.get("stageEn"),
        notify=props.get("notify"),
        sla_clock=props.get("slaClock"),
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
