"""Workflow classes whose step cost follows the open tasks, not the case's history.

SpiffWorkflow finds READY and WAITING tasks by walking the whole task tree from its root
(several times per step), so a step costs more the longer the case has run, and the walk
stops silently at depth 1000. These subclasses keep every workflow's `tasks` in a journaled
dict, so that:
- the set of unfinished tasks is known without a walk (finished tasks never become unfinished
  again outside the explicit resets below, which rebuild the index), and state-filtered task
  queries look only at those;
- the persistence layer learns exactly which tasks were added and removed since it last wrote.
Queries with other shapes (a start task, `end_at_spec`, no state filter) go to SpiffWorkflow's
own iterator unchanged. Tasks come back in creation order rather than tree order; BPMN gives
parallel branches no order, so nothing may depend on it.

With `selfcheck` on (the test suite turns it on) every fast query is compared with
SpiffWorkflow's own answer and a difference raises.

`MppWorkflow.compact` (called after every step) bounds the task tree's depth: long chains of
finished tasks that nothing still needs are spliced out (see the comment above `KEEP`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskFilter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskIterator, TaskState

_FAST_KEYS = {"state", "manual", "spec_name", "lane", "skip_subprocesses", "spec_class"}
SELFCHECK = {"on": False}


class TaskDict(dict[UUID, Any]):
    """The tasks of one workflow, recording additions and removals as they happen."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.added: dict[UUID, None] = {}
        self.removed: set[UUID] = set()
        self.open: dict[UUID, Any] = {}
        self.rewritten: set[UUID] = set()  # finished tasks whose parent or children changed: store them again
        self._text: dict[UUID, str] = {}

    def __setitem__(self, key: UUID, value: Any) -> None:
        if key not in self:
            self.added[key] = None
            self.open[key] = value
        super().__setitem__(key, value)

    def pop(self, key: UUID, *default: Any) -> Any:
        if key in self:
            self.removed.add(key)
            self.open.pop(key, None)
            self._text.pop(key, None)
        return super().pop(key, *default)

    def text(self, key: UUID) -> str:
        """Return a task id as text, made once per task (UUID's str formats the number in Python every time)."""
        found = self._text.get(key)
        if found is None:
            found = self._text[key] = str(key)
        return found

    def rebuild_open(self) -> None:
        """Recompute the unfinished tasks from scratch (after a reset moved tasks backwards)."""
        self.open = {tid: t for tid, t in self.items() if t.state & TaskState.NOT_FINISHED_MASK}

    def open_tasks(self) -> list[Any]:
        """Return the unfinished tasks, dropping the ones that finished since the last call."""
        finished = [tid for tid, t in self.open.items() if not t.state & TaskState.NOT_FINISHED_MASK]
        for tid in finished:
            del self.open[tid]
        return list(self.open.values())


class _Journaled:
    """Mixin: keep `tasks` as a TaskDict and answer state queries from its open tasks."""

    _tasks: TaskDict

    @property
    def tasks(self) -> TaskDict:
        return self._tasks

    @tasks.setter
    def tasks(self, value: dict[UUID, Any]) -> None:
        journal = value if isinstance(value, TaskDict) else TaskDict(value)
        if not isinstance(value, TaskDict):
            journal.rebuild_open()
        self._tasks = journal

    def _nested(self) -> list[Any]:
        top = self.top_workflow  # type: ignore[attr-defined]
        found, frontier = [], [self]
        while frontier:
            parent = frontier.pop()
            for sub in top.subprocesses.values():
                if sub is not parent and sub.parent_task_id in parent.tasks:
                    found.append(sub)
                    frontier.append(sub)
        return found

    def _fast(self, **kwargs: Any) -> list[Any]:
        state = kwargs.get("state", TaskState.ANY_MASK)
        task_filter = BpmnTaskFilter(**{k: v for k, v in kwargs.items() if k != "skip_subprocesses"})
        owners = [self] if kwargs.get("skip_subprocesses") else [self, *self._nested()]
        result: list[Any] = []
        for owner in owners:
            pool = owner.tasks.open_tasks() if not state & TaskState.FINISHED_MASK else list(owner.tasks.values())
            result.extend(t for t in pool if task_filter.matches(t))
        return result

    def get_tasks_iterator(self, first_task: Any = None, **kwargs: Any) -> Iterator[Any]:
        if first_task is not None or not set(kwargs) <= _FAST_KEYS or "state" not in kwargs:
            return super().get_tasks_iterator(first_task, **kwargs)  # type: ignore[misc, no-any-return]
        tasks = self._fast(**kwargs)
        if SELFCHECK["on"]:
            expected = set(super().get_tasks_iterator(None, **kwargs))  # type: ignore[misc]
            if expected != set(tasks):
                raise AssertionError(f"fast task query {kwargs} differs from SpiffWorkflow's")
        return iter(tasks)

    def update_waiting_tasks(self) -> None:
        waiting = [t for t in self.tasks.open_tasks() if t.state == TaskState.WAITING]
        if SELFCHECK["on"]:
            expected = set(TaskIterator(self.task_tree, state=TaskState.WAITING))  # type: ignore[attr-defined]
            if expected != set(waiting):
                raise AssertionError("fast WAITING query differs from SpiffWorkflow's")
        for task in waiting:
            task.task_spec._update(task)

    def is_completed(self) -> bool:
        if not self.completed:  # type: ignore[has-type]
            if not self.tasks.open_tasks():
                self.completed = True
        return bool(self.completed)


class MppSubWorkflow(_Journaled, BpmnSubWorkflow):  # type: ignore[misc]
    """A called sub-process with journaled tasks."""


class MppWorkflow(_Journaled, BpmnWorkflow):  # type: ignore[misc]
    """A case's workflow with journaled tasks and open-task queries."""

    def create_subprocess(self, my_task: Any, spec_name: str) -> Any:
        subprocess = MppSubWorkflow(self.subprocess_specs[spec_name], parent_task_id=my_task.id, top_workflow=self)
        self.subprocesses[my_task.id] = subprocess
        return subprocess

    def all_workflows(self) -> list[Any]:
        """Return this workflow and every sub-workflow."""
        return [self, *self.subprocesses.values()]

    def rebuild_index(self) -> None:
        """Recompute the open tasks of every workflow (call after resetting or migrating tasks)."""
        for wf in self.all_workflows():
            wf.tasks.rebuild_open()

    def compact(self) -> int:
        """Bound the task tree's depth: cut the finished history above what is still needed; return tasks dropped."""
        if self.completed:  # its end events and data are read once more by the step that finished it
            return 0
        dropped = 0
        for wf in [self, *self.subprocesses.values()]:
            if not wf.completed:  # a finished sub-process is never stepped again; it goes with its calling task
                dropped += _compact(self, wf)
        return dropped


# Compaction (see docs/architecture.md, "Cases of any length"). SpiffWorkflow keeps every task it ever made:
# a loop adds its tasks under the previous round's, so the tree deepens with every step, and recursive ancestor
# checks (Task.is_descendant_of, the iterators' depth limit) fail near depth 1000. The case's history is ours
# (case_event), so the engine keeps only the tasks still needed (unfinished, waiting on an event, the last one,
# a live sub-process's caller), every ancestor of theirs, and the root; and where the chain between two of those
# runs through more than KEEP + SLACK finished tasks that lead nowhere else, it keeps the KEEP nearest each end
# and splices the middle out (with the dead branches hanging off it). Ancestry among the kept tasks is unchanged,
# so joins and boundary events see what they saw; most steps only mark the needed tasks' bounded ancestry.
KEEP = 8
SLACK = 24  # at least KEEP, so that a run long enough to cut has a middle


def _needed(top: Any, wf: Any) -> list[Any]:
    """The tasks of `wf` that the workflow may still touch: unfinished, waiting on events, last, live sub-process."""
    needed = list(wf.tasks.open_tasks())
    if wf.last_task is not None and wf.last_task.id in wf.tasks:
        needed.append(wf.last_task)
    needed.extend(wf.tasks[t.id] for t in list(top.event_manager.tasks.values()) if t.id in wf.tasks)  # the tree's own
    needed.extend(wf.tasks[tid] for tid, sub in top.subprocesses.items() if tid in wf.tasks and not sub.completed)
    return needed


def _skeleton(needed: list[Any]) -> dict[Any, list[Any]]:
    """Map every needed task and ancestor of one to its children on the way to needed tasks.

    Keyed by the task objects (one per id in a workflow), whose hash is their identity: hashing a task's
    UUID is a Python call, and a step's compaction made hundreds of them.
    """
    below: dict[Any, list[Any]] = {}
    for task in needed:
        child = None
        while task is not None:
            kids = below.get(task)
            known = kids is not None
            if kids is None:
                kids = below[task] = []
            if child is not None and child not in kids:
                kids.append(child)
            if known:
                break
            child, task = task, task.parent
    return below


def _compact(top: Any, wf: Any) -> int:
    needed = _needed(top, wf)
    if not needed:
        return 0
    below = _skeleton(needed)
    root = wf.task_tree
    keep = {*needed, root}
    dropped: list[UUID] = []
    frontier = [root]
    while frontier:
        task = frontier.pop()
        run = []  # the finished tasks with a single way down, from task down
        while task not in keep and len(below[task]) == 1:
            run.append(task)
            task = below[task][0]
        if len(run) > KEEP + SLACK:
            dropped.extend(_splice(wf.tasks, run[KEEP - 1].id, [t.id for t in run[KEEP:-KEEP]], run[-KEEP].id))
        frontier.extend(below[task])
    tasks = wf.tasks
    for tid in dropped:
        tasks.pop(tid)
    _drop_subprocesses(top, set(dropped))
    return len(dropped)


def _splice(tasks: TaskDict, upper: UUID, middle: list[UUID], lower: UUID) -> list[UUID]:
    """Hang `lower` under `upper` in place of `middle`; return the middle and its dead branches."""
    parent, child = tasks[upper], tasks[lower]
    parent._children = [lower if c == middle[0] else c for c in parent._children]
    child._parent = upper
    tasks.rewritten.update((upper, lower))
    gone, frontier = [], list(middle)
    spared = set(middle[1:]) | {lower}
    while frontier:
        tid = frontier.pop()
        gone.append(tid)
        frontier.extend(c for c in tasks[tid]._children if c not in spared)
    return gone


def _drop_subprocesses(top: Any, dropped: set[UUID]) -> None:
    """Forget the finished sub-processes whose calling task was cut away (and the ones they called)."""
    gone = [tid for tid in top.subprocesses if tid in dropped]
    while gone:
        sub = top.subprocesses.pop(gone.pop())
        gone.extend(tid for tid in top.subprocesses if tid in sub.tasks)
