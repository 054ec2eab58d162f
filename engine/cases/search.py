"""Staff case search: find a case by tracking number, NIK or applicant name, within what the actor may read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.cases import tracking as tracking
from engine.cases.access import visible_cases
from engine.directory.actors import Actor
from engine.errors import NotAllowed
from engine.models import Case, User

# The start-form fields that name the applicant and hold their NIK, across the catalogue's services
# (docs/daily-work.md). The first name field a case has is the name shown for it.
NAME_FIELDS = ("nama_pemohon", "nama_lengkap", "nama_peserta", "nama_pemilik", "nama_pelapor", "nama_calon_suami",
               "nama_penanggung_jawab")
NIK_FIELDS = ("nik", "nik_pemilik", "nik_calon_suami", "nik_calon_istri", "nik_ayah", "nik_ibu", "nik_anggota")
TRACKING = re.compile(r"^\s*(MPP)?[\s-]*[0-9A-Z]{4}[\s-]*[0-9A-Z]{4}\s*$", re.IGNORECASE)
MIN_NAME = 2
MIN_DIGITS = 4


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

    A tracking number matches exactly (as `tracking.normalise` reads it), digits match a NIK from its
    start, anything else matches a part of the applicant's name, case-insensitively.
    """
    text = " ".join(text.split())
    if not text:
        return None
    conditions: list[ColumnElement[bool]] = []
    if TRACKING.match(text):
        conditions.append(case.tracking_number == tracking.normalise(text))
    if text.isdigit():
        if len(text) < MIN_DIGITS:
            return None
        conditions += [_field(case, f).startswith(text, autoescape=True) for f in NIK_FIELDS]
    elif len(text) >= MIN_NAME:
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


def search_cases(session: Session, *, actor: Actor, text: str, limit: int = 50,
                 offset: int = 0) -> tuple[list[CaseHit], int]:
    """Return a page of the cases the actor may read that match the text, newest first, and the total.

    Staff only: an applicant finds their own cases through tracking, never by another person's NIK.
    """
    if actor.platform_role not in ("admin", "officer"):
        raise NotAllowed("only staff search cases")
    applicant = aliased(User)
    condition = matches(text, Case, applicant)
    if condition is None:
        return [], 0
    nik = func.coalesce(*[_field(Case, f) for f in NIK_FIELDS])
    stmt = (select(Case.id, Case.tracking_number, Case.process_key, Case.status, Case.stage_id, Case.stage_en,
                   Case.channel, applicant_name(Case, applicant), nik, Case.created_at)
            .outerjoin(applicant, applicant.id == Case.applicant_id)
            .where(visible_cases(actor), condition))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(Case.id.desc()).limit(limit).offset(offset))
    return [CaseHit(*row) for row in rows], total
