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

    def __setitem__(self, key: UUID, value: Any) -> None:
        if key not in self:
            self.added[key] = None
            self.open[key] = value
        super().__setitem__(key, value)

    def pop(self, key: UUID, *default: Any) -> Any:
        if key in self:
            self.removed.add(key)
            self.open.pop(key, None)
        return super().pop(key, *default)

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
