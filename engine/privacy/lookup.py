"""Lookup hashes: find a case by its full NIK while the NIK itself is sealed.

Each NIK-like field of a case's data has a row in `case_lookup` holding the HMAC-SHA256 (a key
derived from configuration, engine.privacy.keys) of its digits. The hash finds equal numbers only:
search by NIK needs all 16 digits; a prefix no longer finds anything.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from engine.models import Case, CaseLookup
from engine.privacy.cipher import lookup_hash

# The start-form fields holding a NIK across the catalogue's services (docs/daily-work.md).
LOOKUP_FIELDS = ("nik", "nik_pemilik", "nik_calon_suami", "nik_calon_istri", "nik_ayah", "nik_ibu", "nik_anggota")
NIK_DIGITS = 16


def changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Tell whether a step changed one of the NIK fields (so the case's lookups must be rewritten)."""
    return any(before.get(name) != after.get(name) for name in LOOKUP_FIELDS)


# Built once: a step that changes a NIK, a correction and a key rotation run it (a new case has no rows to forget:
# its lookup rows go with its first step's batch, `lookup_rows`).
_FORGET = delete(CaseLookup).where(CaseLookup.case_id == bindparam("case_id"))


def lookup_rows(*, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the lookup rows (case_id, field, hash) of the NIK fields a case's (plain) data holds."""
    return [{"case_id": case_id, "field": name, "hash": digest} for name in LOOKUP_FIELDS
            if isinstance(data.get(name), str | int) and (digest := lookup_hash(data[name])) is not None]


def write_lookups(session: Session, *, case_id: int, data: dict[str, Any]) -> None:
    """Replace a case's lookup rows with the hashes of the NIK fields its (plain) data holds."""
    session.execute(_FORGET, {"case_id": case_id})
    rows = lookup_rows(case_id=case_id, data=data)
    if rows:
        session.execute(insert(CaseLookup), rows)


def is_full_nik(text: str) -> bool:
    """Tell whether a search text is a whole NIK (16 digits, spaces and dots allowed)."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return len(digits) == NIK_DIGITS and all(ch.isdigit() or ch in " ." for ch in text)


def nik_condition(text: str, case: Any = Case) -> ColumnElement[bool]:
    """SQL condition on a case: one of its NIK fields equals the number typed."""
    # `IN`, not a correlated EXISTS: the database starts from the few cases the hash index finds.
    found: ColumnElement[bool] = case.id.in_(select(CaseLookup.case_id).where(CaseLookup.hash == lookup_hash(text)))
    return found
