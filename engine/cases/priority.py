"""Priority service and jemput bola (outreach): who is served first, and who asked an officer to come.

People with disabilities, the elderly (60 and over) and pregnant women get priority service
(UU 25/2009 art. 29, PermenPAN-RB 15/2014, UU 8/2016 on disability). A service standard may offer
jemput bola, an officer visiting the applicant, to some groups (`outreach` in service.toml).
Both are attributes of the case (`case_record.priority`, `outreach_*`), set when it is filed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.bpmn.conventions import OUTREACH_GROUPS
from engine.models import Case
from forms.validation import FieldError, FormInvalid

Label = tuple[str, str]
"""A label in Bahasa Indonesia and in English, in that order."""

PRIORITY: dict[str, Label] = {
    "disabilitas": ("Penyandang disabilitas", "Person with a disability"),
    "lansia": ("Lansia (60 tahun ke atas)", "Older person (60 or over)"),
    "hamil": ("Ibu hamil", "Pregnant woman"),
}
OUTREACH: dict[str, Label] = {
    "disabilitas": ("penyandang disabilitas", "people with disabilities"),
    "lansia": ("lansia", "older people"),
    "sakit": ("orang sakit", "people who are ill"),
}
OUTREACH_REASON: dict[str, Label] = {
    "disabilitas": ("Penyandang disabilitas", "Disability"),
    "lansia": ("Lansia (60 tahun ke atas)", "Older person (60 or over)"),
    "sakit": ("Sakit, tidak dapat bepergian", "Ill, cannot travel"),
}
# A start form that has its own jemput bola step (lingkungan, reklame) reads the request from these fields.
FORM_FLAG, FORM_ADDRESSES = "jemput_bola", ("alamat_jemput_bola", "alamat_kunjungan")
FORM_FIELDS = (FORM_FLAG, *FORM_ADDRESSES)
MAX_ADDRESS, MAX_CONTACT = 500, 120


@dataclass(frozen=True)
class Outreach:
    """A jemput bola request: why the officer must come, where, and whom to call to agree the visit."""

    reason: str
    address: str
    contact: str


@dataclass(frozen=True)
class Needs:
    """What an applicant asked for beside the form: priority service (its reason) and a jemput bola visit."""

    priority: str | None = None
    outreach: Outreach | None = None


def outreach_groups(service: dict[str, Any]) -> list[str]:
    """Return the groups a service standard offers jemput bola to, in the usual order; empty when none."""
    table = service.get("outreach")
    groups = table.get("for") if isinstance(table, dict) else None
    return [g for g in OUTREACH_GROUPS if g in groups] if isinstance(groups, list) else []


def check(service: dict[str, Any], needs: Needs) -> list[FieldError]:
    """Return what is wrong with the request for this service (empty when it may be filed)."""
    errors: list[FieldError] = []
    if needs.priority is not None and needs.priority not in PRIORITY:
        errors.append(FieldError("priority", "enum", "Pilih alasan layanan prioritas dari daftar.",
                                 f"Choose the reason for priority service from: {', '.join(PRIORITY)}."))
    outreach = needs.outreach
    if outreach is None:
        return errors
    allowed = outreach_groups(service)
    if not allowed:
        return [*errors, FieldError("outreach", "not-offered", "Layanan ini tidak menyediakan jemput bola.",
                                    "This service does not offer jemput bola (an officer's visit).")]
    if outreach.reason not in allowed:
        names_id = ", ".join(OUTREACH[g][0] for g in allowed)
        errors.append(FieldError("outreach_for", "enum", f"Jemput bola layanan ini hanya untuk {names_id}.",
                                 f"This service offers jemput bola only to: {', '.join(allowed)}."))
    if not outreach.address.strip():
        errors.append(FieldError("outreach_address", "required", "Tulis alamat yang akan dikunjungi petugas.",
                                 "Write the address the officer should visit."))
    elif len(outreach.address) > MAX_ADDRESS:
        errors.append(FieldError("outreach_address", "maxLength", f"Alamat paling panjang {MAX_ADDRESS} karakter.",
                                 f"The address may be at most {MAX_ADDRESS} characters."))
    contact = outreach.contact.strip()
    if not contact:
        errors.append(FieldError("outreach_contact", "required", "Tulis nomor telepon yang bisa dihubungi petugas.",
                                 "Write a phone number the officer can call."))
    elif len(contact) > MAX_CONTACT:
        errors.append(FieldError("outreach_contact", "maxLength", f"Kontak paling panjang {MAX_CONTACT} karakter.",
                                 f"The contact may be at most {MAX_CONTACT} characters."))
    return errors


def bundle_groups(services: list[dict[str, Any]]) -> list[str]:
    """Return the groups any service of an integrated application offers jemput bola to, in the usual order."""
    offered = {g for service in services for g in outreach_groups(service)}
    return [g for g in OUTREACH_GROUPS if g in offered]


def check_bundle(services: list[dict[str, Any]], needs: Needs) -> list[FieldError]:
    """Return what is wrong with one request for every service of an integrated application.

    Priority service applies to every case; a jemput bola visit needs at least one service that
    offers it to the applicant's group, and goes only onto the cases of those services (for_service).
    """
    groups = bundle_groups(services)
    if needs.outreach is not None and not groups:
        errors = check({}, Needs(needs.priority))
        return [*errors, FieldError("outreach", "not-offered",
                                    "Tidak ada layanan dalam permohonan ini yang menyediakan jemput bola.",
                                    "No service in this application offers jemput bola (an officer's visit).")]
    return check({"outreach": {"for": groups}}, needs)


def for_service(service: dict[str, Any], needs: Needs) -> Needs:
    """Return the part of an integrated application's request that one of its services takes.

    The visit is kept only when the service offers jemput bola to the applicant's group.
    """
    if needs.outreach is not None and needs.outreach.reason in outreach_groups(service):
        return needs
    return Needs(needs.priority)


def refuse_invalid(service: dict[str, Any], needs: Needs) -> None:
    """Raise FormInvalid when the request does not fit the service."""
    errors = check(service, needs)
    if errors:
        raise FormInvalid(errors)


def with_form_fields(schema: dict[str, Any], data: dict[str, Any], needs: Needs) -> dict[str, Any]:
    """Return the start data with the form's own jemput bola fields filled from the request, when it has them.

    Packages whose process has a jemput bola step (a gateway on `jemput_bola`) follow the case's
    request, so the applicant asks once; a flag the data sets itself (the API, older clients) is kept.
    """
    properties = schema.get("properties") or {}
    if FORM_FLAG not in properties:
        return data
    if needs.outreach is None:
        return {FORM_FLAG: False, **data}
    filled = {**data, FORM_FLAG: True}
    for name in FORM_ADDRESSES:
        if name in properties:
            filled[name] = needs.outreach.address.strip()
    return filled


def record(row: Case, needs: Needs) -> None:
    """Write the request onto the new case's row."""
    row.priority = needs.priority
    if needs.outreach is not None:
        row.outreach_for = needs.outreach.reason
        row.outreach_address = needs.outreach.address.strip()
        row.outreach_contact = needs.outreach.contact.strip()
