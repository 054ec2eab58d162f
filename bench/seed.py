"""Bulk seeding: many cases, open tasks and history rows across the real catalogue, fast.

Rows look like the ones the engine writes (same tables, tracking numbers, keyed PIN hashes, task
read-model rows routed to the catalogue's real roles and provider firms, history events with data
diffs), so the real query functions find and read them. They skip what no query reads: the
serialized workflow state (`case_state`) and jobs. Seeded cases can be read and tracked, not
stepped. PostgreSQL is fed with COPY, SQLite with executemany, in chunks, behind a progress bar.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from engine.bpmn.state import SERIALIZER_VERSION
from engine.cases import steps as steps
from engine.cases import tracking as tracking
from engine.cases.assignment import agency_of
from engine.context import AppContext
from engine.db import transaction
from engine.models import Agency, Case, CaseEvent, Membership, OpenTask, ProcessVersion, Role, User

ROOT = Path(__file__).resolve().parent.parent
# Naive UTC datetimes: what the columns store on SQLite, and COPY reads them in a UTC session.
EPOCH = datetime(2025, 1, 1)  # noqa: DTZ001
SPAN_S = 700 * 86400  # cases were filed over ~two years
CHANNELS = ("tatap_muka", "tatap_muka", "daring", "daring", "drive_thru")
APPLICANTS = 2000
FRONT_DESKS = 20
CHUNK = 10_000
# Spreads case ids over 40 bits one-to-one (odd multiplier modulo 2**40): unique tracking numbers.
MIX = 0x9E3779B97F
# Every PRIORITY_EVERY-th case has priority service (engine/cases/priority.py), from its id: no random draw,
# so the other columns stay what earlier seeds gave.
PRIORITY_EVERY = 19
PRIORITY_REASONS = ("lansia", "disabilitas", "hamil")


@dataclass(frozen=True)
class Step:
    """One user task of a catalogue process, as its open-task rows carry it."""

    element_id: str
    name: str
    lane: str | None
    role: str
    agency: str
    providers: tuple[str, ...]  # firms a marketplace lane binds to (empty: not a marketplace)
    sla_days: int | None


@dataclass(frozen=True)
class Service:
    """One deployed service of the catalogue."""

    key: str
    version_id: int
    name: str
    steps: tuple[Step, ...]


@dataclass
class Catalogue:
    """The deployed services, the officers per role and the applicants the seeder spreads rows over."""

    services: list[Service]
    officers: dict[str, list[tuple[int, str]]]  # role -> [(user id, username)]
    applicants: list[int]
    secret: str
    officer_names: dict[int, str] = field(default_factory=dict)


def tracking_number(case_id: int) -> str:
    """Return the seeded case's tracking number (distinct for every id below 2**40)."""
    n = (case_id * MIX) % (1 << 40)
    chars = "".join(tracking.ALPHABET[(n >> (5 * i)) & 31] for i in range(8))
    return f"MPP-{chars[:4]}-{chars[4:]}"


def priority_of(case_id: int) -> str | None:
    """Return the seeded case's priority service reason, or None (about one case in PRIORITY_EVERY has one)."""
    return PRIORITY_REASONS[case_id // PRIORITY_EVERY % 3] if case_id % PRIORITY_EVERY == 0 else None


def pin(case_id: int) -> str:
    """Return the seeded case's PIN (the benchmark needs to know it to look the case up)."""
    return f"{(case_id * 7919 + 13) % 10**6:06d}"


def prepare(ctx: AppContext) -> Catalogue:
    """Deploy the catalogue, create officers for every role (several at each front office) and applicants."""
    from api.bootstrap import deploy_folder, seed_demo

    with transaction(ctx.sessions) as session:
        deploy_folder(session, ctx.settings.processes_dir)
        seed_demo(session)
        if session.scalar(select(func.count()).select_from(User).where(User.username.like("pemohon_%"))) == 0:
            _bulk_users(session, [f"pemohon_{n}" for n in range(APPLICANTS)], "applicant")
            # A busy counter has many desks: walk-in cases are spread over them, not one demo account.
            for role in session.scalars(select(Role).where(Role.key.like("%.front_office"))):
                names = [f"loket_{role.agency_code}_{n}" for n in range(FRONT_DESKS)]
                ids = _bulk_users(session, names, "officer")
                session.execute(insert(Membership), [
                    {"user_id": uid, "role_key": role.key, "organisation_code": role.agency_code} for uid in ids])
    with ctx.sessions() as session:
        return _describe(session, ctx)


def describe(ctx: AppContext) -> Catalogue:
    """Return the catalogue of a database `prepare` already set up (deploys nothing, creates no one)."""
    with ctx.sessions() as session:
        return _describe(session, ctx)


def _bulk_users(session: Session, names: list[str], platform_role: str) -> list[int]:
    session.execute(insert(User), [
        {"username": name, "display_name": name, "platform_role": platform_role, "language": "id", "active": True,
         "created_at": EPOCH.replace(tzinfo=UTC)} for name in names])
    return list(session.scalars(select(User.id).where(User.username.in_(names))))


def _describe(session: Session, ctx: AppContext) -> Catalogue:
    providers: dict[str, tuple[str, ...]] = {}
    for code, parent in session.execute(select(Agency.code, Agency.parent_code).where(Agency.parent_code.is_not(None))):
        providers[str(parent)] = (*providers.get(str(parent), ()), code)
    services = []
    for version in session.scalars(select(ProcessVersion).order_by(ProcessVersion.key)):
        compiled = ctx.rt.specs.get(session, version.id)
        found = [Step(m.element_id, m.name, m.lane, m.role, agency_of(m.role),
                      providers.get(agency_of(m.role), ()) if m.bind_organisation else (), m.sla_days)
                 for m in compiled.tasks.values() if m.role and m.role != "applicant"]
        if found:
            name = str(version.service.get("name", {}).get("id", version.key))
            services.append(Service(version.key, version.id, name, tuple(found)))
    officers: dict[str, list[tuple[int, str]]] = {}
    for user_id, username, role in session.execute(
            select(User.id, User.username, Membership.role_key).join(Membership, Membership.user_id == User.id)):
        officers.setdefault(role, []).append((user_id, username))
    applicants = list(session.scalars(select(User.id).where(User.username.like("pemohon_%"))))
    return Catalogue(services, officers, applicants, ctx.settings.secret_key.get_secret_value())


@dataclass
class Batch:
    """The rows of one chunk of cases."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


class Generator:
    """Makes case, open-task and history rows; deterministic for a given seed."""

    def __init__(self, catalogue: Catalogue, seed: int = 7) -> None:
        self.cat = catalogue
        self.rnd = random.Random(seed)
        self.diff = json.dumps(steps.data_diff({}, {"catatan": "berkas lengkap", "hasil": "sesuai"}))
        self.front = [o for role, users in catalogue.officers.items() if role.endswith(".front_office") for o in users]

    def batch(self, first_id: int, count: int, open_every: int) -> Batch:
        """Rows for case ids first_id..first_id+count-1; every `open_every`-th case waits on a user task."""
        out = Batch()
        for case_id in range(first_id, first_id + count):
            self._case(out, case_id, running=case_id % open_every == 0)
        return out

    def _case(self, out: Batch, case_id: int, *, running: bool) -> None:
        rnd, cat = self.rnd, self.cat
        service = cat.services[case_id % len(cat.services)]
        created = EPOCH + timedelta(seconds=rnd.randrange(SPAN_S))
        walk_in = rnd.random() < 0.6
        filer_id, filer = rnd.choice(self.front) if walk_in and self.front else (None, "")
        applicant = None if walk_in else rnd.choice(cat.applicants)
        actor = filer if walk_in else f"pemohon_{applicant}"
        number = tracking_number(case_id)
        done = rnd.randrange(0, len(service.steps)) if running else min(len(service.steps), 2)
        at = created
        events = [_event(case_id, at, actor, "started", label=service.name)]
        for step in service.steps[:done]:
            at += timedelta(hours=rnd.randrange(2, 72))
            who = rnd.choice(cat.officers.get(step.role) or [(0, "sistem")])[1]
            events.append(_event(case_id, at, who, "completed", task_id=str(uuid.UUID(int=rnd.getrandbits(128))),
                                 element_id=step.element_id, label=step.name, diff=self.diff))
        status, stage = ("running", service.steps[done].name) if running else (
            ("cancelled", "Dibatalkan") if case_id % 53 == 0 else ("completed", "Selesai"))
        if status == "completed":
            events.append(_event(case_id, at, "system", "completed", label="Selesai"))
        elif status == "cancelled":
            events.append(_event(case_id, at, filer or "admin", "cancelled", label="permintaan pemohon"))
        out.events.extend(events)
        out.cases.append({
            "id": case_id, "tracking_number": number, "pin_hash": tracking.hash_pin(pin(case_id), number, cat.secret),
            "process_key": service.key, "process_version_id": service.version_id, "status": status,
            "stage_id": stage, "stage_en": stage, "outcome": "Selesai" if status == "completed" else None,
            "channel": rnd.choice(CHANNELS), "applicant_id": applicant, "filed_by_id": filer_id, "bundle_id": None,
            "data": f'{{"nama_pemohon": "Pemohon {case_id}", "nik": "3471{case_id:012d}"}}', "wf_meta": "{}",
            "serializer_version": SERIALIZER_VERSION, "version": len(events), "created_at": created,
            "updated_at": at, "due_at": created + timedelta(days=14),
            "completed_at": at if status != "running" else None, "priority": priority_of(case_id)})
        if running:
            out.tasks.append(self._task(case_id, service, service.steps[done], at))

    def _task(self, case_id: int, service: Service, step: Step, at: datetime) -> dict[str, Any]:
        rnd = self.rnd
        bound = rnd.choice(step.providers) if step.providers else None
        holders = self.cat.officers.get(step.role) or []
        # Claimed by an officer of the role now and then (bound tasks stay unclaimed: the firm's officer varies).
        assignee = rnd.choice(holders)[0] if holders and bound is None and rnd.random() < 0.1 else None
        due = at + timedelta(days=step.sla_days) if step.sla_days else None
        return {"id": str(uuid.UUID(int=rnd.getrandbits(128))), "case_id": case_id, "process_key": service.key,
                "element_id": step.element_id, "name": step.name, "lane": step.lane, "role": step.role,
                "agency": step.agency, "bound_org": bound, "assignee_id": assignee,
                "claimed_at": at if assignee else None, "created_at": at, "due_at": due,
                "overdue": bool(due and due < EPOCH + timedelta(seconds=SPAN_S)),
                "prioritized": priority_of(case_id) is not None}


def _event(case_id: int, at: datetime, actor: str, action: str, *, task_id: str | None = None,
           element_id: str | None = None, label: str | None = None, diff: str | None = None,
           ) -> dict[str, Any]:
    return {"case_id": case_id, "at": at, "actor": actor, "action": action, "task_id": task_id,
            "element_id": element_id, "label": label, "diff": diff}


@dataclass
class SeedResult:
    """What one seeding run wrote and how long it took."""

    cases: int
    open_tasks: int
    events: int
    seconds: float

    @property
    def us_per_case(self) -> float:
        return 1e6 * self.seconds / max(1, self.cases)


def seed(ctx: AppContext, catalogue: Catalogue, *, cases: int, open_tasks: int, progress: bool = True,
         seed_value: int = 7) -> SeedResult:
    """Append `cases` cases (of which `open_tasks` wait on a user task) after the existing ones; ANALYZE."""
    with ctx.sessions() as session:
        first = int(session.scalar(select(func.max(Case.id))) or 0) + 1
    open_every = max(1, cases // max(1, open_tasks))
    generator = Generator(catalogue, seed_value + first)
    writer = _copy_writer if ctx.engine.dialect.name == "postgresql" else _executemany_writer
    started = time.perf_counter()
    written = SeedResult(0, 0, 0, 0.0)
    bar = tqdm(total=cases, unit="case", unit_scale=True, disable=not progress, desc="seeding", leave=False)
    with ctx.engine.connect() as conn:
        for offset in range(0, cases, CHUNK):
            batch = generator.batch(first + offset, min(CHUNK, cases - offset), open_every)
            writer(conn, batch)
            conn.commit()
            written.cases += len(batch.cases)
            written.open_tasks += len(batch.tasks)
            written.events += len(batch.events)
            bar.update(len(batch.cases))
        bar.close()
        conn.execute(text("ANALYZE"))
        conn.commit()
    if ctx.engine.dialect.name == "postgresql":
        _fix_sequences(ctx.engine)
    written.seconds = time.perf_counter() - started
    return written


def _values(rows: list[dict[str, Any]], columns: list[str], sqlite: bool) -> list[tuple[Any, ...]]:
    """Driver values: JSON is already text; datetimes become SQLite's text form there (naive UTC)."""
    if not sqlite:
        return [tuple(row[c] for c in columns) for row in rows]
    when = {c for c in columns if isinstance(rows[0][c], datetime) or c.endswith("_at")}
    return [tuple(_text(row[c]) if c in when else row[c] for c in columns) for row in rows]


def _text(value: datetime | None) -> str | None:
    return value.isoformat(" ", "microseconds") if value is not None else None


def _batches(batch: Batch) -> list[tuple[str, list[str], list[dict[str, Any]]]]:
    """Each table with the columns the generator fills (the others keep NULL) and its rows."""
    tables = (("case_record", batch.cases), ("task", batch.tasks), ("case_event", batch.events))
    return [(table, list(rows[0]), rows) for table, rows in tables if rows]


def _executemany_writer(conn: Any, batch: Batch) -> None:
    """INSERT the rows with the driver's executemany (SQLite): no ORM, no per-row statement building."""
    for table, columns, rows in _batches(batch):
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                             _values(rows, columns, sqlite=True))


def _copy_writer(conn: Any, batch: Batch) -> None:
    """COPY the rows in (PostgreSQL): several times faster than INSERTs."""
    conn.exec_driver_sql("SET TIME ZONE 'UTC'")  # the generator's naive datetimes are UTC; begins the transaction
    cursor = conn.connection.driver_connection.cursor()
    for table, columns, rows in _batches(batch):
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # noqa: S608 - fixed names
            for values in _values(rows, columns, sqlite=False):
                copy.write_row(values)


def _fix_sequences(engine: Engine) -> None:
    """Move the id sequence past the explicit ids COPY wrote, so the engine's own inserts still work."""
    with engine.begin() as conn:
        conn.execute(text("SELECT setval(pg_get_serial_sequence('case_record', 'id'), "
                          "(SELECT max(id) FROM case_record))"))


def counts(ctx: AppContext) -> dict[str, int]:
    """Count cases, open tasks and events in the database."""
    with ctx.sessions() as session:
        return {name: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in (("cases", Case), ("open_tasks", OpenTask), ("events", CaseEvent))}

