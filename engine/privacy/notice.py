"""The privacy notice: the platform's bilingual text (engine/data/privacy_notice.toml) filled in per service.

A service may state its own purpose in service.toml (`[privacy] purpose = { id = "...", en = "..." }`);
its retention (engine/privacy/retention.py) is said in the notice too. Each wording is stored once, by
the hash of its text, and the case records which one the applicant accepted and when.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.cases import hotsql as hotsql
from engine.models import Bundle, Case, NoticeAcceptance, PrivacyNotice
from engine.privacy import retention as retention
from forms.validation import FieldError

FIELD = "privacy_notice_accepted"
Message = tuple[str, str]


@cache
def _template() -> dict[str, Any]:
    return tomllib.loads(resources.files("engine").joinpath("data/privacy_notice.toml").read_text("utf-8"))


def notice_errors(service: dict[str, Any]) -> list[Message]:
    """Return what is wrong with service.toml's [privacy] table (nothing when it is absent)."""
    table = service.get("privacy")
    if table is None:
        return []
    purpose = table.get("purpose") if isinstance(table, dict) else None
    if not (isinstance(purpose, dict) and all(isinstance(purpose.get(k), str) and purpose[k].strip()
                                              for k in ("id", "en"))):
        return [("privacy.purpose must give the purpose in both languages: { id = \"...\", en = \"...\" }",
                 "privacy.purpose harus menyebut tujuan dalam dua bahasa: { id = \"...\", en = \"...\" }")]
    unknown = sorted(set(table) - {"purpose"})
    return [(f"unknown key 'privacy.{k}'", f"kunci 'privacy.{k}' tidak dikenal") for k in unknown]


def _bi(value: Any) -> tuple[str, str]:
    if isinstance(value, dict):
        return str(value.get("id", "")), str(value.get("en", value.get("id", "")))
    return str(value or ""), str(value or "")


def _retention_text(service: dict[str, Any]) -> tuple[str, str]:
    policy = retention.policy_of(service)
    if policy is None:
        return ("disimpan selama diperlukan untuk layanan ini dan kewajiban kearsipan.",
                "kept as long as this service and the archives law need it.")
    if policy.action == "keep" or policy.years is None:
        return (f"disimpan permanen ({policy.basis_id}).", f"kept permanently ({policy.basis_en}).")
    verb_id = "dihapus" if policy.action == "delete" else "dianonimkan (data pribadi dihapus)"
    verb_en = "deleted" if policy.action == "delete" else "anonymised (the personal data is removed)"
    return (f"{policy.years} tahun sejak permohonan selesai, lalu {verb_id}; dasar: {policy.basis_id}.",
            f"{policy.years} years from the day the application closed, then {verb_en}; basis: {policy.basis_en}.")


def _agency(service: dict[str, Any]) -> tuple[str, str]:
    code = service.get("agency")
    for agency in service.get("agencies") or []:
        if isinstance(agency, dict) and agency.get("code") == code:
            return _bi(agency.get("name"))
    return str(code or ""), str(code or "")


@dataclass(frozen=True)
class Notice:
    """A service's privacy notice in both languages, with the hash that names this wording."""

    text_id: str
    text_en: str

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(f"{self.text_id}\n\x00\n{self.text_en}".encode()).hexdigest()

    def text(self, lang: str) -> str:
        """Return the notice in the language."""
        return self.text_en if lang == "en" else self.text_id


def notice_for(service: dict[str, Any]) -> Notice:
    """Return the privacy notice of a service (its service.toml, parsed)."""
    template = _template()
    name, agency, keep = _bi(service.get("name")), _agency(service), _retention_text(service)
    purpose = _bi((service.get("privacy") or {}).get("purpose") or template["default_purpose"])
    texts = [str(template[lang]).format(service=name[i], agency=agency[i], purpose=purpose[i], retention=keep[i])
             for i, lang in enumerate(("id", "en"))]
    return Notice(texts[0], texts[1])


def acceptance_errors(accepted: bool | None, *, required: bool) -> list[FieldError]:
    """Return the error of an application whose applicant refused (or, when required, did not accept) the notice."""
    if accepted is True or (accepted is None and not required):
        return []
    return [FieldError(FIELD, "required", "Baca dan setujui pemberitahuan privasi untuk mengajukan permohonan.",
                       "Read and accept the privacy notice to apply.")]


def _notice_id(session: Session, notice: Notice) -> int | None:
    """Return the id of the stored row of a notice's wording, or None when it is not stored yet."""
    found = hotsql.fetch_one(session, "notice_by_hash", {"text_hash": notice.text_hash})
    return int(found.id) if found is not None else None


def _store_notice(session: Session, *, notice: Notice, process_key: str, now: datetime) -> int:
    """Store a notice's new wording once, even when two filings race to store it; return its row's id."""
    row = PrivacyNotice(text_hash=notice.text_hash, process_key=process_key, text_id=notice.text_id,
                        text_en=notice.text_en, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another filing stored the same wording first (its unique text hash): use that row
        stored = _notice_id(session, notice)
        if stored is None:
            raise
        return stored
    return row.id


def record_acceptance(session: Session, *, case_id: int, process_key: str, service: dict[str, Any], actor: str,
                      channel: str, now: datetime) -> int:
    """Record that the case's applicant accepted the service's current notice; return the stored wording's id.

    Every filing writes it, as driver SQL (engine/cases/hotsql.py): through the ORM the lookup and the
    insert cost ~0.3 ms of Python per filing. Only a wording's first filing stores it through the ORM.
    """
    notice = notice_for(service)
    notice_id = _notice_id(session, notice) or _store_notice(session, notice=notice, process_key=process_key, now=now)
    hotsql.execute(session, "notice_accept", {"case_id": case_id, "notice_id": notice_id, "accepted_at": now,
                                               "accepted_by": actor, "channel": channel})
    return notice_id


@dataclass(frozen=True)
class Accepted:
    """The notice accepted for a case: its wording, hash, and when, by whom and through which channel."""

    notice: Notice
    text_hash: str
    accepted_at: datetime
    accepted_by: str
    channel: str


def accepted_notice(session: Session, *, case_id: int) -> Accepted | None:
    """Return the privacy notice accepted when the case was filed, or None (filed before notices were asked)."""
    row = session.execute(select(NoticeAcceptance, PrivacyNotice).join(
        PrivacyNotice, PrivacyNotice.id == NoticeAcceptance.notice_id)
        .where(NoticeAcceptance.case_id == case_id)).first()
    if row is None:
        return None
    acceptance, stored = row
    return Accepted(Notice(stored.text_id, stored.text_en), stored.text_hash, acceptance.accepted_at,
                    acceptance.accepted_by, acceptance.channel)


def accepted_by_number(session: Session, *, tracking_number: str) -> list[Accepted]:
    """Return the notices accepted for the case (or each case of the integrated application) with this number."""
    bundle = select(Bundle.id).where(Bundle.tracking_number == tracking_number).scalar_subquery()
    ids = session.scalars(select(Case.id).where(or_(Case.tracking_number == tracking_number, Case.bundle_id == bundle))
                          .order_by(Case.id))
    found = [accepted_notice(session, case_id=case_id) for case_id in ids]
    return [item for item in found if item is not None]
