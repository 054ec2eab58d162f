"""Durable workflow state whose per-step cost does not grow with the case's history.

A case's SpiffWorkflow state is stored as one row per task (`case_state`) plus a small
workflow-level document (`case_record.wf_meta`). The spec is never stored: it is cached per
process version and re-attached on load. After each step only the tasks that changed are
written. Finished tasks never change, so a `Tracker` remembers a fingerprint of the unfinished
ones only and the ids of all persisted ones; finding what changed costs a set difference on
task ids (done in C) plus a look at the unfinished tasks, which the diagram bounds. The tasks
the engine cuts from the tree (`fastflow.MppWorkflow.compact`) are deleted, and the two a splice
re-links (`TaskDict.rewritten`) written again, so the rows stay as few as the tree.

Sensitive fields (engine.privacy) are sealed as rows are encoded and opened as they are loaded:
the workflow in memory holds plain values, the rows hold `enc:1:` strings. Change detection uses
fingerprints, never row text, so a fresh nonce never makes a row look changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.fastflow import MppSubWorkflow, MppWorkflow, TaskDict
from engine.privacy.cipher import open_fields
from engine.privacy.fields import NO_SEALING, Sealer

SERIALIZER_VERSION = BpmnWorkflowSerializer.VERSION if hasattr(BpmnWorkflowSerializer, "VERSION") else "1.5"
TOP = ""

_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
_registry = _serializer.registry
# SpiffWorkflow knows datetime, timedelta and UUID; scripts also make dates (add_working_days,
# today()) and decimals (money(), Decimal).
_registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
_registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
_Encoder = _serializer._encoder_cls


# One encoder for every call (json.dumps with `cls` builds one per call); it keeps no state between calls.
_ENCODER: json.JSONEncoder = _Encoder(separators=(",", ":"))
_json_str = json.encoder.encode_basestring_ascii  # a string as the encoder writes it (ensure_ascii)


def dumps(value: Any) -> str:
    """Encode a value as compact JSON the way the serializer does (dates, decimals, UUIDs)."""
    _registry._encoder_mode = True
    try:
        return _ENCODER.encode(value)
    finally:
        _registry._encoder_mode = False


def _fingerprint(task: Any) -> tuple[Any, ...]:
    internal = task.internal_data
    return (task.state, task.last_state_change, tuple(task._children), repr(internal) if internal else None)


@dataclass
class Changes:
    """Rows to write for one step: new tasks, changed tasks, removed task ids, workflow meta."""

    inserts: list[tuple[str, str, str, int]] = field(default_factory=list)
    updates: list[tuple[str, str]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    deleted_owners: list[str] = field(default_factory=list)
    meta: str = "{}"


@dataclass
class Tracker:
    """What is persisted of one workflow: its owners and fingerprints of its unfinished tasks.

    New and removed tasks come from each workflow's task journal (`fastflow.TaskDict`), so
    finding what changed never walks the history.
    """

    owners: set[str] = field(default_factory=set)
    open: dict[UUID, tuple[Any, ...]] = field(default_factory=dict)
    next_seq: int = 0


def _workflows(workflow: Any) -> dict[str, Any]:
    owners = {TOP: workflow}
    owners.update({str(key): sub for key, sub in workflow.subprocesses.items()})
    return owners


def _workflow_meta(workflow: Any, sealer: Sealer = NO_SEALING) -> dict[str, Any]:
    def common(wf: Any) -> dict[str, Any]:
        return {
            "data": sealer.seal(_registry.clean(wf.data), dumps),
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


def changed_items(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Return the items of `after` that are new or differ from `before`."""
    try:
        return {k: v for k, v in after.items() if k not in before or before[k] != v}
    except InvalidOperation:  # a script's Decimal("sNaN") refuses every comparison: call it changed
        return {k: v for k, v in after.items() if k not in before or _differs(before[k], v)}


def _differs(old: Any, new: Any) -> bool:
    try:
        return bool(old != new)
    except InvalidOperation:
        return True


def _encode(task: Any, sealer: Sealer = NO_SEALING) -> str:
    """Encode one task exactly as the serializer's TaskConverter does, without its dispatch overhead.

    Data is stored as a delta from the parent task's data (serializer format 1.5); a test
    checks this encoding (opened again) against the serializer's own for every task of real cases.
    Sensitive values in the data and the delta's updates are sealed. The row's fixed fields (ids,
    state, time, flag, spec name) are written straight into the text; only the data, the delta and
    the internal data go through the encoder, and only when not empty (a test holds the text equal
    to the serializer's for unusual values too).
    """
    parent_id, tasks = task._parent, task.workflow.tasks
    text = tasks.text if isinstance(tasks, TaskDict) else str
    parent = tasks.get(parent_id) if parent_id is not None else None
    if parent is None:
        data, delta = dumps(sealer.seal(_registry.clean(task.data), dumps)), "{}"
    else:
        before, after = parent.data, task.data
        updates = changed_items(before, after)
        deletions = [k for k in before if k not in after]
        data = "{}"
        updates_text = dumps(sealer.seal(updates, dumps)) if updates else "{}"
        delta = f'{{"updates":{updates_text},"deletions":{dumps(deletions) if deletions else "[]"}}}'
    internal, changed, triggered = task.internal_data, task.last_state_change, task.triggered
    parent_text = f'"{text(parent_id)}"' if parent is not None else "null"
    children = ",".join([f'"{text(child)}"' for child in task._children])
    changed_text = repr(changed) if type(changed) is float and changed - changed == 0 else dumps(changed)
    triggered_text = "true" if triggered is True else "false" if triggered is False else dumps(triggered)
    internal_text = dumps(_registry.convert(internal)) if internal else "{}"
    return (f'{{"id":"{text(task.id)}","parent":{parent_text},"children":[{children}],'
            f'"last_state_change":{changed_text},"state":{task.state:d},"task_spec":{_json_str(task.task_spec.name)},"triggered":{triggered_text},'
            f'"internal_data":{internal_text},"data":{data},"delta":{delta},"typename":"Task"}}')


def reference_encode(task: Any) -> str:
    """Encode one task through the serializer's registry (the reference for `_encode`)."""
    return dumps(_registry.convert(task))


def diff(workflow: Any, tracker: Tracker, sealer: Sealer = NO_SEALING) -> Changes:
    """Compute the rows that changed since the tracker last saw the workflow, and update it (sealing as it encodes)."""
    changes = Changes()
    owners = _workflows(workflow)
    for owner in tracker.owners - owners.keys():
        changes.deleted_owners.append(owner)
    tracker.owners = set(owners)
    for owner, wf in owners.items():
        tasks = wf.tasks
        added, removed = tasks.added, tasks.removed
        tasks.added, tasks.removed = {}, set()
        for tid in removed:
            tracker.open.pop(tid, None)
            if tid not in added:
                changes.deletes.append(str(tid))
        for tid in [t for t in tasks.rewritten if t in tasks and t not in added]:  # spliced (fastflow.compact)
            changes.updates.append((tasks.text(tid), _encode(tasks[tid], sealer)))
        tasks.rewritten = set()
        for tid in [t for t in tracker.open if t in tasks and t not in added]:
            task = tasks[tid]
            now = _fingerprint(task)
            if now != tracker.open[tid]:
                changes.updates.append((tasks.text(tid), _encode(task, sealer)))
            _remember(tracker, task, now)
        for tid in added:
            task = tasks.get(tid)
            if task is not None:
                changes.inserts.append((tasks.text(tid), owner, _encode(task, sealer), tracker.next_seq))
                tracker.next_seq += 1
                _remember(tracker, task, _fingerprint(task))
    changes.meta = dumps(_workflow_meta(workflow, sealer))
    return changes


def _remember(tracker: Tracker, task: Any, fingerprint: tuple[Any, ...]) -> None:
    if task.state & TaskState.FINISHED_MASK:
        tracker.open.pop(task.id, None)
    else:
        tracker.open[task.id] = fingerprint


def forget_journals(workflow: Any) -> None:
    """Treat the workflow as fully persisted: clear what its task journals recorded."""
    for wf in _workflows(workflow).values():
        wf.tasks.added, wf.tasks.removed, wf.tasks.rewritten = {}, set(), set()


def rewrite_all(workflow: Any) -> Tracker:
    """Return a tracker that will write every task anew at the next diff (after a migration)."""
    for wf in _workflows(workflow).values():
        wf.tasks.added, wf.tasks.removed = dict.fromkeys(wf.tasks), set()
        wf.tasks.rebuild_open()
    return Tracker()


def track(workflow: Any) -> Tracker:
    """Return a tracker for a workflow whose every task is persisted."""
    forget_journals(workflow)
    tracker = Tracker(owners=set(_workflows(workflow)))
    for wf in _workflows(workflow).values():
        for task in wf.tasks.values():
            _remember(tracker, task, _fingerprint(task))
    return tracker


def full_dict(workflow: Any) -> dict[str, Any]:
    """Serialize the whole state (tasks and meta) without the spec: the reference for tests."""
    owners = _workflows(workflow)
    return {
        "tasks": {
            str(tid): json.loads(reference_encode(task))
            for wf in owners.values()
            for tid, task in wf.tasks.items()
        },
        "meta": json.loads(dumps(_workflow_meta(workflow))),
    }


def open_row(row: dict[str, Any]) -> dict[str, Any]:
    """Open the sealed values of one encoded task (its data and its delta's updates)."""
    if row.get("data"):
        row["data"] = open_fields(row["data"])
    delta = row.get("delta")
    if delta and delta.get("updates"):
        delta["updates"] = open_fields(delta["updates"])
    return row


def _restore_tasks(wf: Any, rows: list[dict[str, Any]], root: str) -> None:
    # Rows come in creation order: parents before children, as a delta restore needs.
    wf.tasks = {}
    for row in rows:
        task = _registry.restore(row, workflow=wf)
        wf.tasks[task.id] = task
    wf.task_tree = wf.tasks[UUID(root)]


def _set_common(wf: Any, meta: dict[str, Any]) -> None:
    wf.success = meta["success"]
    wf.completed = meta.get("completed", False)
    wf.correlations = meta.get("correlations", {})
    wf.last_task = wf.tasks.get(UUID(meta["last_task"])) if meta.get("last_task") else None
    wf.data = _registry.restore(open_fields(meta.get("data") or {}))


def load(
    spec: Any,
    subprocess_specs: dict[str, Any],
    rows: list[tuple[str, str, str, int]],
    meta_json: str,
    script_engine: Any,
) -> tuple[Any, Tracker]:
    """Rebuild a workflow from its task rows and meta, re-attaching the cached spec."""
    meta = json.loads(meta_json)
    by_owner: dict[str, list[dict[str, Any]]] = {}
    for _task_id, owner, payload, _seq in rows:
        by_owner.setdefault(owner, []).append(open_row(json.loads(payload)))
    workflow = MppWorkflow(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
    _restore_tasks(workflow, by_owner.get(TOP, []), meta["root"])
    _set_common(workflow, meta)
    _restore_subprocesses(workflow, workflow, by_owner, meta.get("subprocesses", {}))
    workflow.bpmn_events = _registry.restore(meta.get("bpmn_events", []))
    for wf in _workflows(workflow).values():
        wf.tasks.rebuild_open()
    tracker = track(workflow)
    tracker.next_seq = max((r[3] for r in rows), default=-1) + 1
    return workflow, tracker


def _restore_subprocesses(top: Any, parent: Any, by_owner: dict[str, Any], metas: dict[str, Any]) -> None:
    for task in list(parent.tasks.values()):
        key = str(task.id)
        if not isinstance(task.task_spec, SubWorkflowTask) or key not in metas:
            continue
        meta = metas[key]
        spec = top.subprocess_specs.get(task.task_spec.spec)
        sub = MppSubWorkflow(spec, task.id, top, deserializing=True)
        _restore_tasks(sub, by_owner.get(key, []), meta["root"])
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
