"""Play a scenario's steps in its throw-away world through the engine's own service functions.

Each step runs in its own transaction, as an API call would: the application is filed with
`start_case`, tasks are completed with `complete_task` by a throw-away user holding the task's
role, partner messages arrive through `deliver_message`, and moving the clock runs the due timer
and document jobs one by one in due order (`engine.jobs.service.run_job`, as the worker does),
each at its own due time, then the overdue scan. After each step the case is read back from
the read models the pages use (case row, open tasks, history, jobs, issued documents).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from engine.cases.messages import deliver_message, store_answer
from engine.cases.service import start_case
from engine.cases.tasks import complete_task
from engine.catalogue.scenarios import checks as checks
from engine.catalogue.scenarios import world as worlds
from engine.catalogue.scenarios.checks import Labels, Snapshot, TaskView, TimerView
from engine.catalogue.scenarios.format import WIB, Act, Advance, Answer, Apply, Message, Scenario, Step, Until
from engine.db import transaction
from engine.directory.actors import SYSTEM
from engine.documents import service as documents
from engine.errors import DomainError, InvalidInput, Problem
from engine.jobs.service import flag_overdue, run_job
from engine.models import Case, CaseEvent, Incident, IssuedDocument, Job, OpenTask
from engine.sla.escalation import escalate_overdue
from forms.validation import FormInvalid

WORKER = "uji-skenario"
JOB_KINDS = ("timer", documents.JOB_KIND)  # never e-mail, webhook, outside call or bundle message
MAX_JOBS_PER_STEP = 500


class StepFailed(InvalidInput):
    """A step could not be done; the message is in English and Indonesian (caught by `play`, never raised out)."""

    def __init__(self, en: str, id_: str, element_id: str | None = None) -> None:
        super().__init__(en, message_id=id_)
        self.en, self.id_, self.element_id = en, id_, element_id


@dataclass(frozen=True)
class TraceEntry:
    """One line of what happened, for people: which step, when on the simulated clock, what."""

    step: int
    at: datetime
    kind: str  # apply, act, advance, until, message, timer, document, expect, failed
    text_id: str
    text_en: str
    role: str | None = None
    element_id: str | None = None


@dataclass
class Playback:
    """What playing steps left: the trace, the case at the end, the first failure's problems."""

    trace: list[TraceEntry] = field(default_factory=list)
    snapshot: Snapshot | None = None
    problems: list[Problem] = field(default_factory=list)
    done: int = 0  # how many steps ran to the end without a problem
    case_id: int | None = None
    snapshots: list[Snapshot] = field(default_factory=list)  # the case after each step that ran


def play(world: worlds.World, scenario: Scenario, labels: Labels, *, channels: list[str]) -> Playback:
    """Play every step, stopping at the first that fails or whose expectations do not hold."""
    out = Playback()
    world.labels = labels
    steps = scenario.steps
    known: set[tuple[str, str]] = set()  # incidents an expectation has named: not a failure any more
    for index, step in enumerate(steps):
        try:
            if step.action is not None:
                _perform(world, step, out, channels)
            out.snapshot = snapshot(world, out.case_id, labels)
            # An incident may be expected by this step or the next one (when that one only expects).
            upcoming = steps[index + 1] if index + 1 < len(steps) else None
            problems = _check(step, out.snapshot, scenario, labels, known=known,
                              may_wait=upcoming is not None and upcoming.action is None and not step.expect)
        except StepFailed as exc:
            problems = [Problem(scenario.file, exc.element_id, f"step {step.number}: {exc.en}", "error",
                                f"langkah {step.number}: {exc.id_}")]
            out.snapshot = snapshot(world, out.case_id, labels)
        if problems:
            out.problems = problems
            out.trace.append(TraceEntry(step.number, world.clock(), "failed", problems[0].text("id"),
                                        problems[0].text("en")))
            return out
        if step.expect:
            keys = ", ".join(step.expect)
            out.trace.append(TraceEntry(step.number, world.clock(), "expect", f"Sesuai harapan: {keys}",
                                        f"As expected: {keys}"))
        out.done = step.number
        out.snapshots.append(out.snapshot)
    return out


def _check(step: Step, shot: Snapshot, scenario: Scenario, labels: Labels, *, known: set[tuple[str, str]],
           may_wait: bool) -> list[Problem]:
    expect = step.expect or {}
    if shot.incident is not None and ("incident" in expect or expect.get("status") == "incident"):
        known.add(shot.incident)
    if shot.incident is not None and shot.incident not in known and not may_wait:
        element, message = shot.incident
        name = labels.name(element)
        raise StepFailed(f"the case stopped with an incident at {element}{f' ({name})' if name else ''}: {message}",
                         f"permohonan berhenti karena insiden di {element}{f' ({name})' if name else ''}: {message}",
                         element)
    if not step.expect:
        return []
    return checks.compare(scenario, step.number, step.expect, shot, labels)


def _perform(world: worlds.World, step: Step, out: Playback, channels: list[str]) -> None:
    action = step.action
    if isinstance(action, Apply):
        _apply(world, step.number, action, out, channels)
    elif out.case_id is None:
        raise StepFailed("no application yet: the first step must be apply", "belum ada permohonan: langkah "
                         "pertama harus apply")
    elif isinstance(action, Act):
        _act(world, step.number, action, out)
    elif isinstance(action, Message):
        _message(world, step.number, action, out)
    elif isinstance(action, Answer):
        _answer(world, step.number, action, out)
    elif isinstance(action, Advance | Until):
        _move(world, step.number, action, out)


def _domain(exc: DomainError) -> StepFailed:
    if isinstance(exc, FormInvalid):
        return StepFailed("the data is refused: " + "; ".join(f"{e.path}: {e.message_en}" for e in exc.field_errors),
                          "data ditolak: " + "; ".join(f"{e.path}: {e.message_id}" for e in exc.field_errors))
    return StepFailed(exc.message, exc.message_id or exc.message)


def _apply(world: worlds.World, number: int, action: Apply, out: Playback, channels: list[str]) -> None:
    channel = action.channel or ("daring" if "daring" in channels else (channels or ["tatap_muka"])[0])
    actor = worlds.applicant(world)
    try:
        worlds.ensure_bindings(world, action.data)
        with transaction(world.sessions) as session:
            started = start_case(session, rt=world.rt, process_key=world.key, data=dict(action.data),
                                 channel=channel, actor=actor, applicant_id=actor.user_id)
    except DomainError as exc:
        raise _domain(exc) from None
    out.case_id = started.id
    out.trace.append(TraceEntry(number, world.clock(), "apply",
                                f"Permohonan diajukan melalui kanal {channel} ({started.tracking_number})",
                                f"Application filed through the {channel} channel ({started.tracking_number})",
                                "applicant"))
    _run_due(world, number, out, world.clock())


def _open_for(world: worlds.World, case_id: int, action: Act) -> OpenTask:
    with world.sessions() as session:
        rows = list(session.scalars(select(OpenTask).where(OpenTask.case_id == case_id)
                                    .order_by(OpenTask.created_at, OpenTask.element_id)))
    shown = ", ".join(f"{t.element_id} ({t.role})" for t in rows) or "-"
    mine = [t for t in rows if t.role == action.role and (action.task is None or t.element_id == action.task)]
    if not mine:
        what = f"{action.task} for {action.role}" if action.task else f"task for {action.role}"
        what_id = f"{action.task} untuk {action.role}" if action.task else f"tugas untuk {action.role}"
        raise StepFailed(f"no open {what}; open tasks: {shown}", f"tidak ada {what_id} yang terbuka; tugas terbuka: "
                         f"{shown}", action.task)
    if len(mine) > 1 and action.task is None:
        raise StepFailed(f"{action.role} has several open tasks ({shown}): name one with task = \"...\"",
                         f"{action.role} memiliki beberapa tugas terbuka ({shown}): sebut salah satunya dengan "
                         "task = \"...\"")
    return mine[0]


def _act(world: worlds.World, number: int, action: Act, out: Playback) -> None:
    assert out.case_id is not None  # noqa: S101 - _perform checks it
    task = _open_for(world, out.case_id, action)
    try:
        worlds.ensure_bindings(world, action.data)
        if task.assignee_id is not None:
            actor = worlds.user_actor(world, task.assignee_id)
        elif task.role == "applicant":
            actor = worlds.applicant(world)
        else:
            actor = worlds.officer(world, task.role, task.bound_org)
        with transaction(world.sessions) as session:
            complete_task(session, rt=world.rt, task_id=task.id, actor=actor, data=dict(action.data))
    except DomainError as exc:
        failed = _domain(exc)
        raise StepFailed(f"{task.element_id}: {failed.en}", f"{task.element_id}: {failed.id_}",
                         task.element_id) from None
    out.trace.append(TraceEntry(number, world.clock(), "act", f"'{task.name}' diselesaikan oleh {task.role}",
                                f"'{task.name}' completed by {task.role}", task.role, task.element_id))
    _run_due(world, number, out, world.clock())


def _message(world: worlds.World, number: int, action: Message, out: Playback) -> None:
    assert out.case_id is not None  # noqa: S101 - _perform checks it
    try:
        with transaction(world.sessions) as session:
            deliver_message(session, rt=world.rt, case_id=out.case_id, name=action.name, payload=dict(action.data),
                            actor=SYSTEM)
    except DomainError as exc:
        raise _domain(exc) from None
    out.trace.append(TraceEntry(number, world.clock(), "message", f"Pesan '{action.name}' diterima",
                                f"Message '{action.name}' received"))
    _run_due(world, number, out, world.clock())


def _answer(world: worlds.World, number: int, action: Answer, out: Playback) -> None:
    """The partner answers a `store` operation: the answer lands in its case field, as the job would put it."""
    from engine.connectors.service import operations_of_case

    assert out.case_id is not None  # noqa: S101 - _perform checks it
    with transaction(world.sessions) as session:
        operation = operations_of_case(session, out.case_id).get(action.operation)
        if operation is None or operation.store is None:
            raise StepFailed(f"the operation '{action.operation}' does not store its answer in connectors.toml "
                             f"(answer is for store operations; a reply message is a message step)",
                             f"operasi '{action.operation}' tidak menyimpan jawabannya di connectors.toml (answer "
                             f"untuk operasi store; pesan balasan memakai langkah message)")
        try:
            store_answer(session, rt=world.rt, case_id=out.case_id, field=operation.store, value=dict(action.data),
                         label=operation.name, actor=SYSTEM)
        except DomainError as exc:
            raise _domain(exc) from None
    out.trace.append(TraceEntry(number, world.clock(), "message", f"Jawaban '{action.operation}' dicatat",
                                f"Answer to '{action.operation}' recorded"))
    _run_due(world, number, out, world.clock())


def _move(world: worlds.World, number: int, action: Advance | Until, out: Playback) -> None:
    now = world.clock()
    if isinstance(action, Until):
        target = action.at
        if target < now:
            raise StepFailed(f"until {target.isoformat()} is before the clock ({now.astimezone(WIB).isoformat()})",
                             f"until {target.isoformat()} sebelum waktu jam ({now.astimezone(WIB).isoformat()})")
        text = (f"Jam dimajukan ke {target.astimezone(WIB):%Y-%m-%d %H:%M}",
                f"Clock moved to {target.astimezone(WIB):%Y-%m-%d %H:%M}")
    elif action.next_timer:
        due = _next_timer(world, out.case_id)
        if due is None:
            raise StepFailed("no timer is waiting", "tidak ada pengatur waktu yang menunggu")
        target = max(_whole_second(due), now)
        text = ("Jam dimajukan ke pengatur waktu berikutnya", "Clock moved to the next timer")
    else:
        target = advanced(world, now, action)
        span_id, span_en = span_text(action)
        text = (f"Jam dimajukan {span_id}", f"Clock advanced {span_en}")
    out.trace.append(TraceEntry(number, target, "advance", *text))
    _run_due(world, number, out, target)


def advanced(world: worlds.World, now: datetime, action: Advance) -> datetime:
    """Return the instant `action` moves the clock to: working days keep the time of day, on the calendar."""
    if not action.working_days:
        return now + action.span
    local = now.astimezone(WIB)
    day = world.rt.calendar.add_working_days(local.date(), action.working_days)
    return datetime.combine(day, local.timetz()).replace(tzinfo=WIB) + action.span


def span_text(action: Advance) -> tuple[str, str]:
    """Say how far an advance moves the clock, in Indonesian and English."""
    if action.working_days:
        days = action.working_days
        return f"{days} hari kerja", f"{days} working day{'s' if days != 1 else ''}"
    days, rest = action.span.days, action.span.seconds
    parts = [(days, "hari", "day"), (rest // 3600, "jam", "hour"), (rest % 3600 // 60, "menit", "minute")]
    shown = [(n, i, e) for n, i, e in parts if n] or [(0, "menit", "minute")]
    return (" ".join(f"{n} {i}" for n, i, _ in shown),
            " ".join(f"{n} {e}{'s' if n != 1 else ''}" for n, _, e in shown))


def _whole_second(instant: datetime) -> datetime:
    """Round a job's due time up to the second: the engine places timers a few microseconds early."""
    return instant if not instant.microsecond else instant.replace(microsecond=0) + timedelta(seconds=1)


def _next_timer(world: worlds.World, case_id: int | None) -> datetime | None:
    with world.sessions() as session:
        return session.scalar(select(Job.due_at).where(Job.kind == "timer", Job.case_id == case_id,
                                                       Job.status == "pending").order_by(Job.due_at).limit(1))


def _run_due(world: worlds.World, number: int, out: Playback, target: datetime) -> None:
    """Run the due timer and document jobs in due order, each at its due time, then the overdue scan."""
    for _ in range(MAX_JOBS_PER_STEP):
        with world.sessions() as session:
            job = session.execute(select(Job.id, Job.kind, Job.due_at, Job.task_id).where(
                Job.kind.in_(JOB_KINDS), Job.status == "pending", Job.due_at <= target)
                .order_by(Job.due_at, Job.id).limit(1)).first()
        if job is None:
            break
        world.clock.now = max(world.clock.now, _whole_second(job.due_at))
        _run_job(world, number, job.id, job.kind)
        out.trace.extend(_job_trace(world, number, job.kind, job.task_id, out.case_id))
    else:
        raise StepFailed(f"timers kept firing: more than {MAX_JOBS_PER_STEP} in one step",
                         f"pengatur waktu terus berbunyi: lebih dari {MAX_JOBS_PER_STEP} kali dalam satu langkah")
    world.clock.now = max(world.clock.now, target)
    with transaction(world.sessions) as session:
        flag_overdue(session, now=world.clock.now)
        escalate_overdue(session, now=world.clock.now)


def _run_job(world: worlds.World, number: int, job_id: int, kind: str) -> None:
    now = world.clock()
    try:
        with transaction(world.sessions) as session:
            session.execute(update(Job).where(Job.id == job_id).values(
                status="running", locked_by=WORKER, locked_until=now + timedelta(minutes=5),
                attempts=Job.attempts + 1))
            run_job(session, rt=world.rt, job_id=job_id, worker=WORKER)
    except Exception as exc:  # noqa: BLE001 - a job that fails is the scenario's finding, not a crash
        with transaction(world.sessions) as session:
            session.execute(update(Job).where(Job.id == job_id).values(status="failed", last_error=str(exc)[:2000]))
        detail = exc.text("en") if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        detail_id = exc.text("id") if isinstance(exc, DomainError) else detail
        if kind == documents.JOB_KIND:
            raise StepFailed(f"the document could not be issued: {detail}",
                             f"dokumen tidak dapat diterbitkan: {detail_id}") from None
        raise StepFailed(f"a timer failed: {detail}", f"pengatur waktu gagal: {detail_id}") from None


def _job_trace(world: worlds.World, number: int, kind: str, task_id: str | None,
               case_id: int | None) -> list[TraceEntry]:
    at = world.clock()
    with world.sessions() as session:
        if kind == documents.JOB_KIND:
            doc = session.scalar(select(IssuedDocument).where(IssuedDocument.case_id == case_id))
            if doc is None:
                return []
            return [TraceEntry(number, at, "document", f"Dokumen terbit: {doc.title_id} {doc.number}",
                               f"Document issued: {doc.title_en} {doc.number}")]
        element = session.scalar(select(CaseEvent.element_id).where(
            CaseEvent.case_id == case_id, CaseEvent.action == "timer_fired", CaseEvent.task_id == task_id)
            .order_by(CaseEvent.id.desc()).limit(1))
    if element is None:
        return []
    name = world.labels.name(element)
    shown = f"{element} ({name})" if name else element
    return [TraceEntry(number, at, "timer", f"Pengatur waktu {shown} berbunyi", f"Timer {shown} fired",
                       element_id=element)]


def snapshot(world: worlds.World, case_id: int | None, labels: Labels) -> Snapshot:
    """Read the case back from the read models: status, stage, path, open tasks, timers, data, documents."""
    now = world.clock()
    if case_id is None:
        return Snapshot(now)
    with world.sessions() as session:
        case = session.get(Case, case_id)
        if case is None:
            return Snapshot(now)
        path = list(session.scalars(select(CaseEvent.element_id).where(
            CaseEvent.case_id == case_id, CaseEvent.action == "completed", CaseEvent.task_id.is_not(None))
            .order_by(CaseEvent.id)))
        tasks = [TaskView(t.id, t.element_id, t.name, t.role, t.bound_org, t.due_at) for t in session.scalars(
            select(OpenTask).where(OpenTask.case_id == case_id).order_by(OpenTask.created_at, OpenTask.element_id))]
        docs = [(d.title_id, d.title_en, d.number) for d in session.scalars(
            select(IssuedDocument).where(IssuedDocument.case_id == case_id))]
        incident = session.execute(select(Incident.element_id, Incident.message).where(
            Incident.case_id == case_id, Incident.resolved_at.is_(None)).order_by(Incident.id.desc()).limit(1)).first()
        timers = _timers(world, session, case_id, labels)
        return Snapshot(now, case.id, case.tracking_number, case.status, case.stage_id, case.stage_en, case.outcome,
                        checks.end_id(case.outcome, labels) if case.status == "completed" else None,
                        [p for p in path if p], tasks, timers, dict(case.data or {}), docs,
                        (incident.element_id, incident.message) if incident else None, case.due_at)


def _timers(world: worlds.World, session: Any, case_id: int, labels: Labels) -> list[TimerView]:
    jobs = list(session.execute(select(Job.task_id, Job.due_at).where(
        Job.kind == "timer", Job.case_id == case_id, Job.status == "pending").order_by(Job.due_at)))
    if not jobs:
        return []
    loaded = world.rt.load_case(session, case_id)
    elements = {tid: t.element_id for tid, t in loaded.timers_before.items()}
    world.rt.cases.put_back(case_id, loaded)
    return [TimerView(elements.get(str(tid), ""), labels.name(elements.get(str(tid))), due) for tid, due in jobs]
