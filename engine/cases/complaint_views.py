"""Reading complaints back: a complaint's own status and answer, those on a case, a service's answered ones, figures.

What is public is the summary (the complaint's title), the answer and the dates: never the complainant's
name, contact or complaint text, and never an officer's internal note (docs/complaints.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases.complaints import COMPLAINT_SERVICE
from engine.directory.actors import Actor
from engine.errors import NotAllowed
from engine.models import Case, Complaint, OpenTask
from engine.sla.escalation import supervised_agencies

FORWARDED_END = "Pengaduan diteruskan ke SP4N-LAPOR!"  # the end event's name: the case outcome
PUBLIC_LIMIT = 200


@dataclass(frozen=True)
class ComplaintView:
    """One complaint as its tracking page, the complained case's page and the public list show it."""

    tracking_number: str
    service_key: str
    summary: str
    status: str  # running (awaiting a response), completed (answered), cancelled
    filed_at: datetime
    due_at: datetime
    answered_at: datetime | None
    answer_id: str | None
    answer_en: str | None
    lapor_ticket: str | None
    about_number: str | None
    handled_by: str | None  # the agency whose complaints officer holds it now

    @property
    def on_time(self) -> bool | None:
        """Tell whether the answer came by the deadline (None while unanswered)."""
        return None if self.answered_at is None else self.answered_at <= self.due_at


def _answer(case: Case) -> tuple[str | None, str | None, str | None]:
    """Return the public answer (id, en) and the SP4N-LAPOR! ticket of a finished complaint case."""
    data: dict[str, Any] = case.data or {}
    ticket = str(data.get("nomor_tiket_lapor") or "") or None
    if case.status != "completed":
        return None, None, ticket
    if case.outcome == FORWARDED_END and ticket:
        return (f"Pengaduan diteruskan ke SP4N-LAPOR! (nomor tiket {ticket}) untuk ditindaklanjuti instansi terkait.",
                f"The complaint was forwarded to SP4N-LAPOR! (ticket {ticket}) for the agency concerned to follow up.",
                ticket)
    text = str(data.get("tanggapan") or "").strip() or None
    return text, text, ticket


def _view(complaint: Complaint, case: Case, about: str | None, handled_by: str | None) -> ComplaintView:
    answer_id, answer_en, ticket = _answer(case)
    return ComplaintView(
        tracking_number=case.tracking_number, service_key=complaint.service_key,
        summary=str((case.data or {}).get("judul") or ""), status=case.status, filed_at=complaint.created_at,
        due_at=complaint.due_at, answered_at=case.completed_at if case.status == "completed" else None,
        answer_id=answer_id, answer_en=answer_en, lapor_ticket=ticket, about_number=about, handled_by=handled_by)


def _views(session: Session, rows: Sequence[tuple[Complaint, Case]]) -> list[ComplaintView]:
    about_ids = {c.about_case_id for c, _ in rows if c.about_case_id is not None}
    numbers: dict[int, str] = {}
    if about_ids:
        # A Result has keys(): dict() would take it for a mapping, so read the rows one by one.
        numbers = {row[0]: row[1] for row in session.execute(select(Case.id, Case.tracking_number)
                                                             .where(Case.id.in_(about_ids)))}
    case_ids = [case.id for _, case in rows]
    holders: dict[int, str] = {}
    if case_ids:
        holders = {row[0]: row[1] for row in session.execute(select(OpenTask.case_id, OpenTask.agency)
                                                             .where(OpenTask.case_id.in_(case_ids)))}
    return [_view(c, case, numbers.get(c.about_case_id or -1), holders.get(case.id)) for c, case in rows]


def _pairs(session: Session, stmt: Any) -> list[tuple[Complaint, Case]]:
    return [(c, case) for c, case in session.execute(stmt)]


def complaint_of(session: Session, *, tracking_number: str) -> ComplaintView | None:
    """Return the complaint whose own tracking number this is, or None for any other case."""
    rows = _pairs(session, select(Complaint, Case).join(Case, Case.id == Complaint.case_id)
                  .where(Case.tracking_number == tracking_number))
    return _views(session, rows)[0] if rows else None


def complaints_on(session: Session, *, tracking_number: str) -> list[ComplaintView]:
    """Return the complaints filed on one case, newest first (for that case's tracking page)."""
    about = select(Case.id).where(Case.tracking_number == tracking_number).scalar_subquery()
    rows = _pairs(session, select(Complaint, Case).join(Case, Case.id == Complaint.case_id)
                  .where(Complaint.about_case_id == about).order_by(Complaint.id.desc()))
    return _views(session, rows)


def answered_for_service(session: Session, *, service_key: str) -> list[ComplaintView]:
    """Return a service's answered complaints, newest answer first, for the public page."""
    rows = _pairs(session, select(Complaint, Case).join(Case, Case.id == Complaint.case_id)
                  .where(Complaint.service_key == service_key, Case.status == "completed")
                  .order_by(Case.completed_at.desc()).limit(PUBLIC_LIMIT))
    return _views(session, rows)


@dataclass(frozen=True)
class ServiceFigures:
    """Complaints about one service: filed, answered, answered by the deadline, open and past it."""

    service_key: str
    agency: str
    filed: int
    answered: int
    on_time: int
    open: int
    open_overdue: int

    @property
    def on_time_share(self) -> float | None:
        """Return the share answered on time among complaints already due or answered (None when none)."""
        due = self.answered + self.open_overdue
        return round(self.on_time / due, 4) if due else None


def figures(session: Session, *, actor: Actor, now: datetime) -> list[ServiceFigures]:
    """Count complaints per service: every service for an admin, their agencies' for a supervisor."""
    agencies = None if actor.platform_role == "admin" else supervised_agencies(actor)
    if agencies is not None and not agencies:
        raise NotAllowed("only admins and agency supervisors see complaint figures")
    stmt = select(Complaint.service_key, Complaint.agency, Complaint.due_at, Case.status, Case.completed_at
                  ).join(Case, Case.id == Complaint.case_id).where(Case.process_key == COMPLAINT_SERVICE)
    if agencies is not None:
        stmt = stmt.where(Complaint.agency.in_(sorted(agencies)))
    counts: dict[tuple[str, str], list[int]] = {}
    for key, agency, due, status, completed in session.execute(stmt):
        c = counts.setdefault((key, agency), [0, 0, 0, 0, 0])
        c[0] += 1
        if status == "completed":
            c[1] += 1
            c[2] += int(completed is not None and completed <= due)
        elif status == "running":
            c[3] += 1
            c[4] += int(now > due)
    return [ServiceFigures(key, agency, *c) for (key, agency), c in sorted(counts.items())]
