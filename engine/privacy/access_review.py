"""Reading the access record: the data-protection officer's review, and what the applicant sees of it.

The officer filters the record (tracking number, officer, agency, dates, how), sees the views made
without an open task (reveals, each with its reason) and the officers who reveal unusually often. The
applicant sees, for their own case, when and which agency opened their data, in which role and how,
never the officer's name.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.cases.tracking import normalise
from engine.models import Agency, Bundle, Case, PersonalDataAccess, Role
from engine.privacy.access import API, REVEAL

# An officer is highlighted when their reveals in the period reach both this count and FREQUENT_FACTOR
# times the median of the other officers who revealed anything.
FREQUENT_MIN = 5
FREQUENT_FACTOR = 3
WIB = timedelta(hours=7)  # the dates the officer types are local (Western Indonesia Time)


@dataclass(frozen=True)
class Filters:
    """What the officer narrows the record to; None is no filter."""

    tracking_number: str | None = None
    username: str | None = None
    agency: str | None = None
    start: date | None = None
    end: date | None = None
    how: str | None = None
    reveals_only: bool = False


@dataclass(frozen=True)
class AccessRow:
    """One access as the review lists it (no personal data of the citizen: the case by its number)."""

    at: datetime
    case_id: int
    tracking_number: str
    username: str
    how: str
    task_id: str | None
    file_id: int | None
    reason: str | None
    role: str | None
    agency: str | None
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class Opening:
    """One opening of the applicant's data as the tracking page shows it."""

    at: datetime
    agency_id: str
    agency_en: str
    role_name: str
    with_reason: bool


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC) - WIB


def _conditions(filters: Filters) -> list[Any]:
    found: list[Any] = []
    if filters.tracking_number:
        found.append(Case.tracking_number == normalise(filters.tracking_number))
    if filters.username:
        found.append(PersonalDataAccess.username == filters.username.strip())
    if filters.agency:
        found.append(PersonalDataAccess.agency == filters.agency.strip())
    if filters.start:
        found.append(PersonalDataAccess.at >= _local_start(filters.start))
    if filters.end:
        found.append(PersonalDataAccess.at < _local_start(filters.end + timedelta(days=1)))
    if filters.how:
        found.append(PersonalDataAccess.how == filters.how)
    if filters.reveals_only:
        found.append(PersonalDataAccess.reason.is_not(None))
    return found


def list_accesses(session: Session, *, filters: Filters, limit: int, offset: int = 0) -> tuple[list[AccessRow], int]:
    """Return a page of accesses matching the filters, newest first, with the total."""
    base = (select(PersonalDataAccess, Case.tracking_number).join(Case, Case.id == PersonalDataAccess.case_id)
            .where(*_conditions(filters)))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(base.order_by(PersonalDataAccess.at.desc(), PersonalDataAccess.id.desc())
                           .limit(limit).offset(offset)).all()
    return [_row(access, number) for access, number in rows], total


def _row(a: PersonalDataAccess, number: str) -> AccessRow:
    return AccessRow(a.at, a.case_id, number, a.username, a.how, a.task_id, a.file_id, a.reason, a.role, a.agency,
                     a.ip, a.user_agent)


def frequent_revealers(session: Session, *, filters: Filters) -> list[tuple[str, int]]:
    """Return the officers whose reveals in the filtered period stand out, most first, with their counts."""
    counts = session.execute(
        select(PersonalDataAccess.username, func.count()).join(Case, Case.id == PersonalDataAccess.case_id)
        .where(*_conditions(filters), PersonalDataAccess.how.in_((REVEAL, API)),
               PersonalDataAccess.reason.is_not(None))
        .group_by(PersonalDataAccess.username)).all()
    found = []
    for username, count in counts:
        others = [n for u, n in counts if u != username] or [0]
        if count >= max(FREQUENT_MIN, FREQUENT_FACTOR * statistics.median(others)):
            found.append((str(username), int(count)))
    return sorted(found, key=lambda item: (-item[1], item[0]))


def openings(session: Session, *, tracking_number: str) -> list[Opening]:
    """Return who opened the data of a case (or of a bundle's cases), newest first: agency, role name, how."""
    normal = normalise(tracking_number)
    bundle_ids = select(Bundle.id).where(Bundle.tracking_number == normal)
    rows = session.execute(
        select(PersonalDataAccess.at, PersonalDataAccess.agency, PersonalDataAccess.role,
               PersonalDataAccess.reason.is_not(None), Agency.name_id, Agency.name_en, Role.name)
        .join(Case, Case.id == PersonalDataAccess.case_id)
        .outerjoin(Agency, Agency.code == PersonalDataAccess.agency)
        .outerjoin(Role, Role.key == PersonalDataAccess.role)
        .where(or_(Case.tracking_number == normal, Case.bundle_id.in_(bundle_ids)))
        .order_by(PersonalDataAccess.at.desc(), PersonalDataAccess.id.desc()).limit(200)).all()
    return [Opening(at, name_id or _platform(agency, "id"), name_en or _platform(agency, "en"),
                    role_name or _role_part(role), bool(with_reason))
            for at, agency, role, with_reason, name_id, name_en, role_name in rows]


def _platform(agency: str | None, lang: str) -> str:
    if agency:
        return agency
    return "Pengelola platform" if lang == "id" else "Platform operator"


def _role_part(role: str | None) -> str:
    """Return a role key's own part ("admin" for a platform admin), never a person's name."""
    return (role or "").rsplit(".", 1)[-1].replace("_", " ")
