"""The engine's runtime: spec cache, hot-case cache, script engine, calendar and clock.

`build_runtime(settings)` is the one factory; the CLI, the web app, workers and tests call it.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import isolation
from engine.bpmn import compile as spiff
from engine.bpmn import outbound as outbound
from engine.bpmn import sandbox as sandbox
from engine.bpmn import scripting as scripting
from engine.bpmn import state as state
from engine.bpmn.instance import Instance, Runner
from engine.cases import hotsql as hotsql
from engine.catalogue.labels import VersionForms, labels_for_version, step_names, stored_files, version_forms
from engine.catalogue.package import Package
from engine.db import on_commit
from engine.errors import CaseConflict, CaseNotFound, TaskAlreadyCompleted, TaskClaimedByOther
from engine.models import ProcessFile, ProcessVersion
from engine.payments import adapter as payment_adapter
from engine.privacy import keys as privacy_keys
from engine.privacy.cipher import is_sealed, seal_text
from engine.privacy.fields import NO_SEALING, Sealer, sensitive_fields
from engine.settings import Settings
from engine.sla.calendar import ScriptHelpers, WorkingCalendar
from engine.sla.calendar_store import CalendarCache
from forms.labels import Labels

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Return the current time (UTC)."""
    return datetime.now(UTC)


class SpecCache:
    """Parsed process versions, shared by every case on the same version."""

    def __init__(self) -> None:
        self._items: dict[int, spiff.CompiledProcess] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, version_id: int) -> spiff.CompiledProcess:
        """Return the compiled process of a version, parsing it on first use."""
        compiled = self._items.get(version_id)
        if compiled is not None:
            return compiled
        rows = session.execute(select(ProcessFile.name, ProcessFile.content).where(
            ProcessFile.version_id == version_id)).all()
        compiled = spiff.compile_package(Package(files=dict(rows)), version_id=version_id)
        with self._lock:
            self._items.setdefault(version_id, compiled)
        return self._items[version_id]

    def latest(self, session: Session, key: str) -> tuple[ProcessVersion, spiff.CompiledProcess] | None:
        """Return the newest version of a process key with its compiled form."""
        version = session.scalar(
            select(ProcessVersion).where(ProcessVersion.key == key).order_by(ProcessVersion.version.desc()).limit(1))
        if version is None:
            return None
        return version, self.get(session, version.id)


@dataclass
class _Hot:
    version: int
    workflow: Instance
    tracker: state.Tracker
    sealed: dict[str, tuple[privacy_keys.Keyring, str, str]] = field(default_factory=dict)  # LoadedCase.sealed
    # What a recorded step left open (LoadedCase.open_before, timers_before, waiting_before); None: look again.
    seen: tuple[set[str], dict[str, spiff.PendingTimer], set[str]] | None = None


class CaseCache:
    """Recently used workflows, checked against the case's version before reuse.

    An entry is taken out while a request works on it and put back only when that
    request's transaction commits, so a failed or lost update never leaves a wrong
    workflow in the cache, and two threads never share one workflow object.
    """

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[int, _Hot] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def take(self, case_id: int, version: int) -> _Hot | None:
        """Remove and return the cached workflow if it matches the case's version."""
        with self._lock:
            hot = self._items.pop(case_id, None)
        return hot if hot is not None and hot.version == version else None

    def put(self, case_id: int, hot: _Hot) -> None:
        """Keep a workflow whose state is committed at `hot.version`."""
        if self._size <= 0:
            return
        with self._lock:
            self._items[case_id] = hot
            self._items.move_to_end(case_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def put_back(self, case_id: int, loaded: LoadedCase) -> None:
        """Return a workflow that was loaded but not changed."""
        self.put(case_id, _Hot(loaded.row.version, loaded.workflow, loaded.tracker, loaded.sealed))

    def clear(self) -> None:
        """Forget every cached workflow."""
        with self._lock:
            self._items.clear()


@dataclass
class CaseHead:
    """The few columns of a case row a step reads and writes."""

    id: int
    version: int
    process_key: str
    process_version_id: int
    status: str
    stage_id: str
    stage_en: str
    bundle_id: int | None

    @classmethod
    def of(cls, row: Any) -> CaseHead:
        """Build from an ORM row or a result row with the same column names."""
        return cls(row.id, row.version, row.process_key, row.process_version_id, row.status, row.stage_id,
                   row.stage_en, row.bundle_id)


@dataclass
class LoadedCase:
    """A case with its live workflow, ready to be stepped and saved."""

    row: CaseHead
    compiled: spiff.CompiledProcess
    workflow: Instance
    tracker: state.Tracker
    open_before: set[str] = field(default_factory=set)
    timers_before: dict[str, spiff.PendingTimer] = field(default_factory=dict)
    waiting_before: set[str] = field(default_factory=set)
    # True once a step without incident has recorded its outcome: the three sets above are what the workflow
    # has open now, as `Runtime.load_case` would find them (engine.cases.steps.record_step sets it).
    settled: bool = False
    # The case row's sealed values as last written: field → (keyring sealed with, value's JSON text, sealed value).
    sealed: dict[str, tuple[privacy_keys.Keyring, str, str]] = field(default_factory=dict)


@dataclass
class Runtime:
    """Everything the engine needs besides a database session."""

    settings: Settings
    runner: Runner
    calendar: WorkingCalendar
    specs: SpecCache
    cases: CaseCache
    clock: Clock = system_clock
    adapters: outbound.Registry = field(default_factory=outbound.Registry)
    # Seal sensitive fields at rest (engine.privacy); only the benchmark turns it off, to measure its cost.
    encrypt_at_rest: bool = True
    # Follows the database's working calendar: refreshed as a step loads its case (engine.sla.calendar_store).
    calendars: CalendarCache = field(init=False)

    def __post_init__(self) -> None:
        self.calendars = CalendarCache(self.calendar)
        self._sealers: dict[int, Sealer] = {}
        # Read from a version's stored files, which never change once deployed: once per version.
        self._classified: dict[int, dict[str, str]] = {}
        self._step_names: dict[int, dict[str, tuple[str, str]]] = {}
        self._version_files: dict[tuple[int, str], dict[str, bytes]] = {}
        self._forms: dict[int, VersionForms] = {}
        # An agency's parent (engine.cases.steps.is_provider): agencies are created, never changed nor removed,
        # so a parent once read stays true; kept only once the transaction that read it has committed.
        self.agency_parents: dict[str, str | None] = {}

    def sealer(self, compiled: spiff.CompiledProcess) -> Sealer:
        """Return the sealer of a version's sensitive fields (versions are immutable: computed once)."""
        if not self.encrypt_at_rest:
            return NO_SEALING
        return _once(self._sealers, compiled.version_id, lambda: Sealer(sensitive_fields(compiled.forms)))

    def labels(self, session: Session, version_id: int) -> Labels:
        """Return a version's field and value labels: its forms read once per version, organisations each time."""
        forms = _once(self._forms, version_id, lambda: version_forms(session, version_id=version_id))
        return labels_for_version(session, version_id=version_id, forms=forms)

    def classified(self, session: Session, version_id: int) -> dict[str, str]:
        """Return a version's classified fields, name → "personal" / "sensitive" (read once per version)."""
        found = _once(self._classified, version_id, lambda: self.labels(session, version_id).personal_fields())
        return dict(found)  # a copy: the caller may not change what the next request reads

    def version_files(self, session: Session, version_id: int, prefix: str) -> dict[str, bytes]:
        """Return a version's stored files whose names start with `prefix`, name → content (read once per version).

        Each e-mail a job sends looks for its service's own template here (engine.notify.templates.render).
        """
        found = _once(self._version_files, (version_id, prefix), lambda: stored_files(session, version_id, prefix))
        return dict(found)  # a copy: the caller may not change what the next job reads

    def step_names(self, session: Session, version_id: int) -> dict[str, tuple[str, str]]:
        """Return a version's element id → (Indonesian, English) task names (read once per version)."""
        found = _once(self._step_names, version_id, lambda: step_names(session, version_id=version_id))
        return dict(found)

    def load_case(self, session: Session, case_id: int, head: CaseHead | None = None) -> LoadedCase:
        """Load a case's workflow from the hot cache or the database."""
        self.calendars.refresh(session)
        if head is None:
            found = hotsql.fetch_one(session, "case_head", {"case_id": case_id})
            if found is None:
                raise CaseNotFound(f"case {case_id} not found")
            head = CaseHead.of(found)
        compiled = self.specs.get(session, head.process_version_id)
        hot = self.cases.take(case_id, head.version)
        if hot is None:
            rows = hotsql.fetch_all(session, "case_state", {"case_id": case_id})
            meta, version = hotsql.fetch_one(session, "case_meta", {"case_id": case_id})
            if version != head.version:  # a step committed between our reads: they may not match
                raise CaseConflict("the case was changed by someone else; reload and try again")
            raw, tracker = state.load(compiled.spec, compiled.subprocess_specs, [tuple(r) for r in rows],
                                      meta, self.runner.script_engine)
            workflow = Instance(raw, compiled)
        else:
            workflow, tracker = hot.workflow, hot.tracker
            workflow.compiled = compiled
        loaded = LoadedCase(head, compiled, workflow, tracker, sealed=hot.sealed if hot is not None else {})
        if hot is not None and hot.seen is not None:  # the last step read them off this very workflow
            open_before, timers_before, waiting_before = hot.seen
            loaded.open_before, loaded.timers_before, loaded.waiting_before = (
                set(open_before), dict(timers_before), set(waiting_before))
            return loaded
        loaded.open_before = {t.task_id for t in self.ready_tasks(loaded)}
        loaded.timers_before = {t.task_id: t for t in workflow.timers()}
        loaded.waiting_before = {w.name for w in workflow.waits()}
        return loaded

    def ready_tasks(self, loaded: LoadedCase) -> list[spiff.ReadyTask]:
        """List the open user tasks of a loaded case (looking only at its unfinished tasks)."""
        return loaded.workflow.ready(candidates=loaded.tracker.open)

    def save_state(self, session: Session, loaded: LoadedCase, changes: state.Changes, values: dict[str, Any],
                   batch: hotsql.Batch | None = None, claim: tuple[str, int] | None = None) -> int:
        """Write a step's changed rows and bump the case version; raise CaseConflict on a lost race.

        `changes` comes from `state.diff`; `values` holds the case row's read-model columns:
        data, status, stage_id, stage_en, outcome, completed_at. With the step's `batch` the write leads
        it (`Batch.lead`): on PostgreSQL it is sent with the batch, whose `run` raises CaseConflict.
        `claim`: (task, user): the open task the step claims for the user as it completes it, unclaimed when the
        step read it. If another officer claimed or completed it since, the write fails with TaskClaimedByOther
        or TaskAlreadyCompleted: on PostgreSQL the case write locks the task row and finds it still unclaimed,
        or writes nothing (hotsql.write_case); on SQLite any commit since the step's first read fails its first
        write (engine.db), so the request runs again and finds the task taken or done.
        """
        row = loaded.row
        new_version = row.version + 1
        sensitive = self.sealer(loaded.compiled).sensitive
        if sensitive and values.get("data"):
            values = {**values, "data": _seal_row_data(loaded, values["data"], sensitive)}
        written = {**values, "new_version": new_version, "wf_meta": changes.meta, "now": self.clock(),
                   "case_id": row.id, "version": row.version}
        if claim is not None:
            written["claim_tid"], written["claim_uid"] = claim
        if batch is None:
            _check_written(hotsql.write_case(session, written, changes))
        else:
            batch.lead(written, changes, _check_written)
        hot = _Hot(new_version, loaded.workflow, loaded.tracker, loaded.sealed)

        def keep() -> None:  # at commit: the step has recorded what it left open by then
            if loaded.settled:
                hot.seen = (loaded.open_before, loaded.timers_before, loaded.waiting_before)
            self.cases.put(row.id, hot)

        on_commit(session, keep)
        row.version = new_version
        return new_version


_K = TypeVar("_K")
_V = TypeVar("_V")


def _once(cache: dict[_K, _V], key: _K, read: Callable[[], _V]) -> _V:
    """Return `cache[key]`, read the first time only (what a deployed version's stored files give never changes).

    `setdefault`: two threads that both read it keep the same one.
    """
    found = cache.get(key)
    if found is None:
        found = cache.setdefault(key, read())
    return found


def _check_written(updated: int) -> None:
    """Raise CaseConflict unless the case write updated the case row (its version had not moved).

    `hotsql.CLAIM_LOST`: the task the step claims was claimed by someone else (TaskClaimedByOther);
    `hotsql.CLAIM_GONE`: it was completed meanwhile (TaskAlreadyCompleted).
    """
    if updated == hotsql.CLAIM_LOST:
        raise TaskClaimedByOther("another officer took this task a moment ago; reload to see who holds it")
    if updated == hotsql.CLAIM_GONE:
        raise TaskAlreadyCompleted("this task has already been completed")
    if updated != 1:
        raise CaseConflict("the case was changed by someone else; reload and try again")


def _seal_row_data(loaded: LoadedCase, data: dict[str, Any], sensitive: frozenset[str]) -> dict[str, Any]:
    """Return the case row's data with its sensitive values sealed (as `seal_fields` does).

    A value whose JSON text is the one this case's row last got, with the same keyring installed, keeps
    the sealed value written then: the row holds the same ciphertext again and nothing new is encrypted
    (most steps change no sensitive field). Another keyring (a key added or rotated) seals afresh. What
    was written travels with the workflow in the hot cache only.
    """
    names = [name for name in sensitive if name in data]
    if not names:
        return data
    ring = privacy_keys.current()
    out, written = dict(data), {}
    for name in names:
        value = out[name]
        if value is None or is_sealed(value):
            continue
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        last = loaded.sealed.get(name)
        token = last[2] if last is not None and last[0] is ring and last[1] == text else seal_text(name, text, ring)
        out[name] = token
        written[name] = (ring, text, token)
    loaded.sealed = written
    return out


def build_runtime(settings: Settings, *, clock: Clock = system_clock) -> Runtime:
    """Build the engine runtime from settings: the one factory everything uses."""
    calendar = WorkingCalendar.bundled()  # its contents are swapped for the database's on first use
    # Scripts see the engine's clock, so "today" agrees with timers and due dates (and tests).
    helpers = ScriptHelpers(clock, calendar)
    isolation.configure(workers=settings.isolation_workers, inline=settings.isolation == "inline")
    script_engine = scripting.make_script_engine(
        limits=sandbox.Limits(timeout_s=settings.script_timeout_s, max_memory_mb=settings.script_memory_mb),
        extra=helpers, clock=clock, closing=calendar.closing_time)  # a bare-date timer fires at that day's close
    runner = Runner(script_engine, step_budget=settings.engine_step_budget)
    privacy_keys.install(privacy_keys.keyring_from(settings))
    from engine.privacy import corrections as corrections  # it files and applies cases: imports the runtime

    adapters = outbound.Registry({
        "disdukcapil.serahkan": outbound.FileDropAdapter(settings.outbox_dir / "disdukcapil"),
        payment_adapter.OPERATION: payment_adapter.CreateBillAdapter(),
        corrections.OPERATION: corrections.CorrectionAdapter(),
    })
    return Runtime(settings, runner, calendar, SpecCache(), CaseCache(settings.case_cache_size), clock, adapters)
