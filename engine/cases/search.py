"""Staff case search: find a case by tracking number, NIK or applicant name, within what the actor may read.

A NIK is sealed at rest (engine.privacy), so it is found through its lookup hash: by the full 16
digits only. Names stay in clear and match any part.

The same list answers the dashboard's drill-down: filters by service, agency, step, status, overdue
and period (`CaseFilters`), each meaning what the dashboard's figure counts (engine/sla/service.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.cases import listing as listing
from engine.cases import tracking as tracking
from engine.cases.assignment import APPLICANT_ROLE
from engine.directory.actors import Actor
from engine.errors import NotAllowed
from engine.models import Case, OpenTask, TaskSpan, User
from engine.privacy import cipher as cipher
from engine.privacy import lookup as lookup
from forms.personal import mask

# The start-form fields that name the applicant and hold their NIK, across the catalogue's services
# (docs/daily-work.md). The first name field a case has is the name shown for it.
NAME_FIELDS = ("nama_pemohon", "nama_lengkap", "nama_peserta", "nama_pemilik", "nama_pelapor", "nama_calon_suami",
               "nama_penanggung_jawab")
NIK_FIELDS = lookup.LOOKUP_FIELDS
TRACKING = re.compile(r"^\s*(MPP)?[\s-]*[0-9A-Z]{4}[\s-]*[0-9A-Z]{4}\s*$", re.IGNORECASE)
MIN_NAME = 2
MIN_DIGITS = 4
WIB = ZoneInfo("Asia/Jakarta")
# Case status as the dashboard groups it: running (or stopped on an incident), and completed.
STATUSES = {"berjalan": ("running", "incident"), "selesai": ("completed",)}
# What a task filter asks of the agency's or step's tasks: open, open past due, or completed.
TASK_STATES = ("terbuka", "terlambat", "selesai")


@dataclass(frozen=True)
class CaseFilters:
    """The drill-down filters of the staff case list; every one optional, all of them together."""

    process_key: str | None = None
    agency: str | None = None  # with `task`: the agency's tasks; alone: the cases it took part in
    element_id: str | None = None  # a step (user task) of the service
    task: str | None = None  # one of TASK_STATES, for the agency's or step's tasks
    status: str | None = None  # one of STATUSES
    overdue: bool = False  # open past the service's due time
    date_from: date | None = None  # started on or after (WIB)
    date_to: date | None = None  # started on or before (WIB)

    def given(self) -> bool:
        """Tell whether any filter is set."""
        return any(getattr(self, f.name) for f in fields(self))


def _task_condition(filters: CaseFilters, now: datetime) -> ColumnElement[bool] | None:
    if not (filters.agency or filters.element_id or filters.task):
        return None

    def about(table: Any) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [table.case_id == Case.id]
        if filters.agency:
            conditions += [table.agency == filters.agency, table.role != APPLICANT_ROLE]
        if filters.element_id:
            conditions.append(table.element_id == filters.element_id)
        return conditions

    open_task = about(OpenTask)
    if filters.task == "terlambat":
        open_task += [OpenTask.due_at.is_not(None), OpenTask.due_at < now]
    done = [*about(TaskSpan), TaskSpan.completed.is_(True)]
    if filters.task in ("terbuka", "terlambat"):
        return exists().where(*open_task)
    if filters.task == "selesai":
        return exists().where(*done)
    return or_(exists().where(*open_task), exists().where(*done))


def filter_conditions(filters: CaseFilters, *, now: datetime) -> list[ColumnElement[bool]]:
    """SQL conditions on Case for the drill-down filters."""
    conditions: list[ColumnElement[bool]] = []
    if filters.process_key:
        conditions.append(Case.process_key == filters.process_key)
    if filters.status:
        conditions.append(Case.status.in_(STATUSES[filters.status]))
    if filters.overdue:
        # As the dashboard counts them: a case whose SLA clock stands still (the applicant's turn) is not late.
        conditions.append(and_(Case.status.in_(STATUSES["berjalan"]), Case.due_at.is_not(None), Case.due_at < now,
                               Case.sla_paused_since.is_(None)))
    if filters.date_from:
        conditions.append(Case.created_at >= datetime.combine(filters.date_from, time(0), tzinfo=WIB))
    if filters.date_to:
        conditions.append(Case.created_at < datetime.combine(filters.date_to + timedelta(days=1), time(0), tzinfo=WIB))
    task = _task_condition(filters, now)
    if task is not None:
        conditions.append(task)
    return conditions


def _field(case: Any, name: str) -> ColumnElement[Any]:
    field: ColumnElement[Any] = case.data[name].as_string()
    return field


def applicant_name(case: Any = Case, applicant: Any = None) -> ColumnElement[Any]:
    """SQL expression: the applicant's name as the application gives it, else their account's name."""
    names = [_field(case, f) for f in NAME_FIELDS]
    if applicant is not None:
        names.append(func.nullif(applicant.display_name, ""))
    return func.coalesce(*names)


def matches(text: str, case: Any = Case, applicant: Any = None) -> ColumnElement[bool] | None:
    """SQL condition on a case (and its applicant's account): what a search text finds; None when too short.

    A tracking number matches exactly (as `tracking.normalise` reads it), a full 16-digit NIK matches
    through its lookup hash (a part of a NIK finds nothing: it is sealed), anything else matches a
    part of the applicant's name, case-insensitively (a text shaped like a tracking number matches a
    name only when it has no digit: `Abdullah` is both).
    """
    text = " ".join(text.split())
    if not text:
        return None
    conditions: list[ColumnElement[bool]] = []
    if TRACKING.match(text):
        conditions.append(case.tracking_number == tracking.normalise(text))
    if lookup.is_full_nik(text):
        conditions.append(lookup.nik_condition(text, case))
    elif text.replace(" ", "").replace(".", "").isdigit():
        if len(text) < MIN_DIGITS:
            return None
        conditions.append(false())  # part of a NIK: searched, but a sealed NIK is found whole or not at all
    elif len(text) >= MIN_NAME and not selective(text):
        conditions += [_field(case, f).icontains(text, autoescape=True) for f in NAME_FIELDS]
        if applicant is not None:
            conditions.append(applicant.display_name.icontains(text, autoescape=True))
    return or_(*conditions) if conditions else None


@dataclass(frozen=True)
class CaseHit:
    """A case the search found: what the counter needs to recognise it."""

    id: int
    tracking_number: str
    process_key: str
    status: str
    stage_id: str
    stage_en: str
    channel: str
    applicant_name: str | None
    nik: str | None
    created_at: datetime
    priority: str | None = None
    outreach_for: str | None = None


def search_cases(session: Session, *, actor: Actor, text: str, filters: CaseFilters | None = None,
                 now: datetime | None = None, limit: int = 50, offset: int = 0) -> tuple[list[CaseHit], int]:
    """Return a page of the cases the actor may read that match the text and filters, newest first, and the total.

    Staff only: an applicant finds their own cases through tracking, never by another person's NIK.
    Filters alone list cases (the dashboard's drill-down); a text too short to search finds nothing.
    """
    if actor.platform_role not in ("admin", "officer"):
        raise NotAllowed("only staff search cases")
    applicant = aliased(User)
    filters = filters or CaseFilters()
    condition = matches(text, Case, applicant)
    if condition is None and (text.strip() or not filters.given()):
        return [], 0
    conditions = filter_conditions(filters, now=now or datetime.now(WIB))
    if condition is not None:
        conditions.append(condition)
    matching = select(Case.id).where(*conditions)
    if condition is not None:  # a name may be the applicant's account name
        matching = matching.outerjoin(applicant, applicant.id == Case.applicant_id)
    ids, total = listing.visible_page(session, actor=actor, matching=matching, selective=selective(text),
                                      limit=limit, offset=offset)
    niks = [_field(Case, f) for f in NIK_FIELDS]
    rows = session.execute(
        select(Case.id, Case.tracking_number, Case.process_key, Case.status, Case.stage_id, Case.stage_en,
               Case.channel, applicant_name(Case, applicant), Case.created_at, Case.priority, Case.outreach_for,
               *niks)
        .outerjoin(applicant, applicant.id == Case.applicant_id).where(Case.id.in_(ids)).order_by(Case.id.desc()))
    return [masked_hit(_hit(row)) for row in rows], total


def selective(text: str) -> bool:
    """Tell whether a search text finds at most a few cases by an index: digits (a NIK), a tracking number."""
    text = " ".join(text.split())
    digits = text.replace(" ", "").replace(".", "").isdigit()
    return bool(text) and (digits or (TRACKING.match(text) is not None and any(ch.isdigit() for ch in text)))


def _hit(row: Any) -> CaseHit:
    """Build a hit, opening the first NIK field the case has (sealed at rest)."""
    niks = row[11:]
    nik = next(((name, value) for name, value in zip(NIK_FIELDS, niks, strict=True) if value is not None), None)
    shown = None
    if nik is not None:
        shown = str(json.loads(cipher.open_text(*nik))) if cipher.is_sealed(nik[1]) else nik[1]
    return CaseHit(id=row[0], tracking_number=row[1], process_key=row[2], status=row[3], stage_id=row[4],
                   stage_en=row[5], channel=row[6], applicant_name=row[7], nik=shown, created_at=row[8],
                   priority=row[9], outreach_for=row[10])


def masked_hit(hit: CaseHit) -> CaseHit:
    """Return a hit with the applicant's name and NIK masked: a list shows enough to recognise a case, no more.

    The search still finds a case by the full NIK or the name (`matches`); the case page shows them.
    """
    return replace(hit, applicant_name=mask(hit.applicant_name) if hit.applicant_name else None,
                   nik=mask(hit.nik, "sensitive") if hit.nik else None)
