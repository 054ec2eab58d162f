"""Durable workflow state whose per-step cost does not grow with the case's history.

A case's SpiffWorkflow state is stored as one row per task (`case_state`) plus a small
workflow-level document (`case_record.wf_meta`). The spec is never stored: it is cached per
process version and re-attached on load. After each step only the tasks that changed are
written. Finished tasks never change, so a `Tracker` remembers a fingerprint of the unfinished
ones only and the ids of all persisted ones; finding what changed costs a set difference on
task ids (done in C) plus a look at the unfinished tasks, which the diagram bounds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.workflow import BpmnSubWorkflow, BpmnWorkflow  # type: ignore[import-untyped]
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # type: ignore[import-untyped]
from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]

SERIALIZER_VERSION = BpmnWorkflowSerializer.VERSION if hasattr(BpmnWorkflowSerializer, "VERSION") else "1.5"
TOP = ""

_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
_registry = _serializer.registry
_Encoder = _serializer._encoder_cls


def _dumps(value: Any) -> str:
    _registry._encoder_mode = True
    try:
        return json.dumps(value, cls=_Encoder, separators=(",", ":"))
    finally:
        _registry._encoder_mode = False


def _fingerprint(task: Any) -> tuple[Any, ...]:
    internal = task.internal_data
    return (task.state, task.last_state_change, tuple(task._children), repr(internal) if internal else None)


@dataclass
class Changes:
    """Rows to write for one step: new tasks, changed tasks, removed task ids, workflow meta."""

    inserts: list[tuple[str, str, str]] = field(default_factory=list)
    updates: list[tuple[str, str]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    meta: str = "{}"


@dataclass
class Tracker:
    """What is persisted for one workflow: all task ids per owner, fingerprints of unfinished ones."""

    persisted: dict[str, set[UUID]] = field(default_factory=dict)
    open: dict[UUID, tuple[Any, ...]] = field(default_factory=dict)
    dirty: set[UUID] = field(default_factory=set)

    def mark_dirty(self, task_id: UUID) -> None:
        """Force a task to be written at the next diff (its data changed without a state change)."""
        self.dirty.add(task_id)


def _workflows(workflow: Any) -> dict[str, Any]:
    owners = {TOP: workflow}
    owners.update({str(key): sub for key, sub in workflow.subprocesses.items()})
    return owners


def _workflow_meta(workflow: Any) -> dict[str, Any]:
    def common(wf: Any) -> dict[str, Any]:
        return {
            "data": _registry.clean(wf.data),
            "correlations": wf.correlations,
            "last_task": str(wf.last_task.id) if wf.last_task is not None else None,
            "success": wf.success,
            "completed": wf.completed,
            "root": str(wf.task_tree.id),
        }

    meta = common(workflow)
    meta["bpmn_events"] = _registry.convert(workflow.bpmn_events)
    meta["subprocesses"] = {
        str(key): {**common(sub), "parent_task_id": str(sub.parent_task_id), "spec": sub.spec.name}
        for key, sub in workflow.subprocesses.items()
    }
    return meta


def diff(workflow: Any, tracker: Tracker) -> Changes:
    """Compute the rows that changed since the tracker last saw the workflow, and update it."""
    changes = Changes()
    owners = _workflows(workflow)
    for owner in list(tracker.persisted):
        if owner not in owners:
            changes.deletes.extend(str(tid) for tid in tracker.persisted.pop(owner))
    for owner, wf in owners.items():
        tasks = wf.tasks
        known = tracker.persisted.setdefault(owner, set())
        new_ids = tasks.keys() - known
        gone = known - tasks.keys()
        for tid in gone:
            tracker.open.pop(tid, None)
            changes.deletes.append(str(tid))
        known -= gone
        for tid in new_ids:
            changes.inserts.append((str(tid), owner, _dumps(_registry.convert(tasks[tid]))))
        for tid, before in list(tracker.open.items()):
            task = tasks.get(tid)
            if task is None:
                continue
            now = _fingerprint(task)
            if now != before or tid in tracker.dirty:
                changes.updates.append((str(tid), _dumps(_registry.convert(task))))
            _remember(tracker, task, now)
        for tid in new_ids:
            _remember(tracker, tasks[tid], _fingerprint(tasks[tid]))
        known |= new_ids
    tracker.dirty.clear()
    changes.meta = _dumps(_workflow_meta(workflow))
    return changes


def _remember(tracker: Tracker, task: Any, fingerprint: tuple[Any, ...]) -> None:
    if task.state & TaskState.FINISHED_MASK:
        tracker.open.pop(task.id, None)
    else:
        tracker.open[task.id] = fingerprint


def full_dict(workflow: Any) -> dict[str, Any]:
    """Serialize the whole state (tasks and meta) without the spec: the reference for tests."""
    owners = _workflows(workflow)
    return {
        "tasks": {
            str(tid): json.loads(_dumps(_registry.convert(task)))
            for wf in owners.values()
            for tid, task in wf.tasks.items()
        },
        "meta": json.loads(_dumps(_workflow_meta(workflow))),
    }


def _restore_tasks(wf: Any, rows: dict[str, dict[str, Any]], root: str) -> None:
    # Parents first: a task's data is stored as a delta from its parent's data.
    wf.tasks = {}
    pending = [root]
    while pending:
        tid = pending.pop()
        row = rows.get(tid)
        if row is None:
            continue
        task = _registry.restore(row, workflow=wf)
        wf.tasks[task.id] = task
        pending.extend(row["children"])
    wf.task_tree = wf.tasks[UUID(root)]


def _set_common(wf: Any, meta: dict[str, Any]) -> None:
    wf.success = meta["success"]
    wf.completed = meta.get("completed", False)
    wf.correlations = meta.get("correlations", {})
    wf.last_task = wf.tasks.get(UUID(meta["last_task"])) if meta.get("last_task") else None
    wf.data = _registry.restore(meta.get("data", {}))


def load(
    spec: Any,
    subprocess_specs: dict[str, Any],
    rows: list[tuple[str, str, str]],
    meta_json: str,
    script_engine: Any,
) -> tuple[Any, Tracker]:
    """Rebuild a workflow from its task rows and meta, re-attaching the cached spec."""
    meta = json.loads(meta_json)
    by_owner: dict[str, dict[str, dict[str, Any]]] = {}
    for task_id, owner, payload in rows:
        by_owner.setdefault(owner, {})[task_id] = json.loads(payload)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
    _restore_tasks(workflow, by_owner.get(TOP, {}), meta["root"])
    _set_common(workflow, meta)
    _restore_subprocesses(workflow, workflow, by_owner, meta.get("subprocesses", {}))
    workflow.bpmn_events = _registry.restore(meta.get("bpmn_events", []))
    tracker = Tracker()
    for owner, wf in _workflows(workflow).items():
        tracker.persisted[owner] = set(wf.tasks)
        for task in wf.tasks.values():
            _remember(tracker, task, _fingerprint(task))
    return workflow, tracker


def _restore_subprocesses(top: Any, parent: Any, by_owner: dict[str, Any], metas: dict[str, Any]) -> None:
    for task in list(parent.tasks.values()):
        key = str(task.id)
        if not isinstance(task.task_spec, SubWorkflowTask) or key not in metas:
            continue
        meta = metas[key]
        spec = top.subprocess_specs.get(task.task_spec.spec)
        sub = BpmnSubWorkflow(spec, task.id, top, deserializing=True)
        _restore_tasks(sub, by_owner.get(key, {}), meta["root"])
        _set_common(sub, meta)
        top.subprocesses[task.id] = sub
        sub.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
        _restore_subprocesses(top, sub, by_owner, metas)


def registry() -> Any:
    """Return the serializer registry (spec diffs need it)."""
    return _registry


def new_tracker() -> Tracker:
    """Return a tracker for a workflow that has nothing persisted yet."""
    return Tracker()
