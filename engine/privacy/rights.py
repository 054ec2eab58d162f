"""Data subjects' rights (UU 27/2022 art. 5-7): everything held about a citizen, as JSON and as a readable PDF.

The export holds the account, every case the citizen is the applicant of (its data in full: what
they gave and what the officers recorded about their application, as UU PDP's right of access
asks), each case's history as the public timeline tells it (what happened and when, never which
officer: staff are named by their role's agency only in the access record), the files they uploaded,
their complaints and survey answers, the privacy notice accepted and who opened the case's
personal data. Nothing of anyone else: only cases whose applicant is this account.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fpdf import FPDF
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.catalogue.labels import labels_for_version
from engine.documents import filestore as filestore
from engine.documents.pdf import WIB, latin1
from engine.errors import NotFound
from engine.models import (
    Case,
    CaseEvent,
    Complaint,
    PersonalDataAccess,
    ProcessVersion,
    StoredFile,
    SurveyResponse,
    User,
)
from engine.privacy import notice as notice
from engine.privacy import retention as retention

FORMAT = "mpp-personal-data/1"
# History actions a citizen's timeline shows; claims, overdue flags and incidents are the office's own work.
PUBLIC_ACTIONS = ("started", "completed", "cancelled", "timer_fired", "sent", "message_received", "retried",
                  "requirement_files", "corrected")
FILE_LINK = "/permohonan-saya/berkas/{id}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _account(user: User) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "email": user.email,
            "language": user.language, "created_at": _iso(user.created_at)}


def _history(session: Session, case: Case, applicant: str) -> list[dict[str, Any]]:
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action.in_(
        PUBLIC_ACTIONS)).order_by(CaseEvent.at, CaseEvent.id))
    return [{"at": _iso(e.at), "action": e.action, "step": e.label or "",
             "by": "you" if e.actor == applicant else ("system" if e.actor == "system" else "officer")}
            for e in events]


def _fields(session: Session, case: Case) -> list[dict[str, Any]]:
    labels = labels_for_version(session, version_id=case.process_version_id)
    names = {filestore.ref(f.id): f.filename for f in filestore.case_files(session, case_id=case.id)}

    def shown(key: str, value: Any, lang: str) -> str:
        if isinstance(value, str) and value in names:
            return names[value]  # a file reference reads as the file's name
        return labels.value(key, value, lang)

    return [{"field": key, "title_id": labels.title(key, "id"), "title_en": labels.title(key, "en"),
             "value": value, "shown_id": shown(key, value, "id"), "shown_en": shown(key, value, "en")}
            for key, value in case.data.items()]


def _accepted(session: Session, case_id: int) -> dict[str, Any] | None:
    found = notice.accepted_notice(session, case_id=case_id)
    if found is None:
        return None
    return {"text_hash": found.text_hash, "accepted_at": _iso(found.accepted_at), "channel": found.channel,
            "text_id": found.notice.text_id, "text_en": found.notice.text_en}


def _accesses(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(PersonalDataAccess).where(PersonalDataAccess.case_id == case_id)
                           .order_by(PersonalDataAccess.at))
    return [{"at": _iso(r.at), "agency": r.agency, "role": r.role, "how": r.how} for r in rows]


def _case(session: Session, case: Case, applicant: str) -> dict[str, Any]:
    service = session.scalar(select(ProcessVersion.service).where(ProcessVersion.id == case.process_version_id))
    name = (service or {}).get("name") or {}
    hold = retention.active_hold(session, case_id=case.id)
    return {"tracking_number": case.tracking_number, "service": case.process_key,
            "service_id": name.get("id", case.process_key), "service_en": name.get("en", case.process_key),
            "status": case.status, "stage_id": case.stage_id, "stage_en": case.stage_en, "outcome": case.outcome,
            "channel": case.channel, "filed_at": _iso(case.created_at), "closed_at": _iso(case.completed_at),
            "data": _fields(session, case), "history": _history(session, case, applicant),
            "privacy_notice": _accepted(session, case.id), "personal_data_opened_by": _accesses(session, case.id),
            "legal_hold": hold is not None}


def _files(session: Session, user_id: int, case_ids: list[int]) -> list[dict[str, Any]]:
    rows = session.scalars(select(StoredFile).where(or_(StoredFile.uploaded_by == user_id,
                                                        StoredFile.case_id.in_(case_ids))).order_by(StoredFile.id))
    return [{"id": r.id, "ref": filestore.ref(r.id), "filename": r.filename, "content_type": r.content_type,
             "size": r.size, "uploaded_at": _iso(r.created_at), "by_you": r.uploaded_by == user_id,
             "link": FILE_LINK.format(id=r.id)} for r in rows]


def _complaints(session: Session, case_ids: list[int]) -> list[dict[str, Any]]:
    rows = list(session.execute(select(Complaint, Case.tracking_number).join(Case, Case.id == Complaint.case_id)
                                .where(Complaint.case_id.in_(case_ids)).order_by(Complaint.id)).all())
    about_ids = [c.about_case_id for c, _number in rows if c.about_case_id is not None]
    about = {row.id: row.tracking_number for row in session.execute(
        select(Case.id, Case.tracking_number).where(Case.id.in_(about_ids)))}
    return [{"tracking_number": number, "service": c.service_key, "agency": c.agency,
             "about": about.get(c.about_case_id) if c.about_case_id else None, "confidential": c.confidential,
             "filed_at": _iso(c.created_at)} for c, number in rows]


def _surveys(session: Session, case_ids: list[int]) -> list[dict[str, Any]]:
    rows = session.execute(select(SurveyResponse, Case.tracking_number).join(Case, Case.id == SurveyResponse.case_id)
                           .where(SurveyResponse.case_id.in_(case_ids)).order_by(SurveyResponse.id))
    return [{"tracking_number": number, "submitted_at": _iso(r.submitted_at),
             "scores": [r.u1, r.u2, r.u3, r.u4, r.u5, r.u6, r.u7, r.u8, r.u9], "comment": r.comment}
            for r, number in rows]


def personal_data(session: Session, *, user_id: int, now: datetime) -> dict[str, Any]:
    """Return everything the platform holds about one account's holder, as plain JSON-ready values."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"account {user_id} not found")
    cases = list(session.scalars(select(Case).where(Case.applicant_id == user_id).order_by(Case.id)))
    case_ids = [c.id for c in cases]
    return {"format": FORMAT, "exported_at": _iso(now), "account": _account(user),
            "cases": [_case(session, c, user.username) for c in cases],
            "files": _files(session, user_id, case_ids), "complaints": _complaints(session, case_ids),
            "surveys": _surveys(session, case_ids)}


def as_json(export: dict[str, Any]) -> bytes:
    """Return the export as indented UTF-8 JSON."""
    return json.dumps(export, ensure_ascii=False, indent=2, default=str).encode("utf-8")


# ---------------------------------------------------------------- the readable PDF


def _when(value: str | None) -> str:
    return datetime.fromisoformat(value).astimezone(WIB).strftime("%d-%m-%Y %H.%M WIB") if value else "-"


class _Doc(FPDF):
    def heading(self, text: str, size: float = 13) -> None:
        self.set_font("helvetica", "B", size)
        self.multi_cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("helvetica", "", 9.5)

    def line_(self, text: str, *, bold: bool = False) -> None:
        self.set_font("helvetica", "B" if bold else "", 9.5)
        self.multi_cell(0, 5, latin1(text), new_x="LMARGIN", new_y="NEXT")

    def pair(self, label: str, value: str) -> None:
        self.set_font("helvetica", "B", 9.5)
        self.multi_cell(60, 5, latin1(label), new_x="RIGHT", new_y="TOP")
        self.set_font("helvetica", "", 9.5)
        self.multi_cell(0, 5, latin1(value or "-"), new_x="LMARGIN", new_y="NEXT")


def _pdf_case(pdf: _Doc, case: dict[str, Any], lang: str) -> None:
    en = lang == "en"
    pdf.heading(f"{case['tracking_number']} - {case['service_en' if en else 'service_id']}", 12)
    pdf.pair("Status", f"{case['status']} ({case['stage_en' if en else 'stage_id']})")
    pdf.pair("Filed" if en else "Diajukan", _when(case["filed_at"]))
    pdf.pair("Closed" if en else "Selesai", _when(case["closed_at"]))
    for item in case["data"]:
        pdf.pair(item["title_en" if en else "title_id"], str(item["shown_en" if en else "shown_id"]))
    if case["history"]:
        pdf.line_("History" if en else "Riwayat", bold=True)
        for event in case["history"]:
            pdf.line_(f"{_when(event['at'])}  {event['action']}  {event['step']}")
    if case["privacy_notice"]:
        pdf.line_(("Privacy notice accepted " if en else "Pemberitahuan privasi disetujui ")
                  + _when(case["privacy_notice"]["accepted_at"]), bold=True)
    if case["personal_data_opened_by"]:
        pdf.line_("Personal data opened by" if en else "Data pribadi dibuka oleh", bold=True)
        for seen in case["personal_data_opened_by"]:
            pdf.line_(f"{_when(seen['at'])}  {seen['agency'] or '-'}  {seen['how']}")
    pdf.ln(3)


def as_pdf(export: dict[str, Any], *, lang: str = "id") -> bytes:
    """Render the export as a readable PDF in the citizen's language."""
    en = lang == "en"
    pdf = _Doc(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.heading("My personal data - Public-Service Mall" if en else "Data pribadi saya - Mal Pelayanan Publik", 15)
    pdf.line_(("Exported " if en else "Diunduh ") + _when(export["exported_at"]))
    account = export["account"]
    pdf.heading("Account" if en else "Akun")
    for label, key in (("Username" if en else "Nama pengguna", "username"), ("Name" if en else "Nama", "display_name"),
                       ("E-mail", "email"), ("Created" if en else "Dibuat", "created_at")):
        pdf.pair(label, _when(account[key]) if key == "created_at" else str(account[key] or "-"))
    pdf.heading(("Applications" if en else "Permohonan") + f" ({len(export['cases'])})")
    for case in export["cases"]:
        _pdf_case(pdf, case, lang)
    pdf.heading(("Files" if en else "Berkas") + f" ({len(export['files'])})")
    for item in export["files"]:
        pdf.line_(f"{item['filename']} ({item['content_type']}, {item['size']} B) {_when(item['uploaded_at'])}")
    pdf.heading(("Satisfaction survey answers" if en else "Jawaban survei kepuasan") + f" ({len(export['surveys'])})")
    for answer in export["surveys"]:
        pdf.line_(f"{answer['tracking_number']}: {answer['scores']} {answer['comment'] or ''}")
    return bytes(pdf.output())
