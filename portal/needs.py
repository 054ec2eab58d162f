"""The apply form's priority-service and jemput bola fields: read them, label them for the error summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from engine.cases import priority as priority
from web.templates import pick

FIELDS = ("priority", "outreach", "outreach_for", "outreach_address", "outreach_contact")


@dataclass(frozen=True)
class Label:
    """What the error summary needs of a field outside the service's form: its name, input and label."""

    name: str
    input_id: str
    label: str


def skipped(service: dict[str, Any]) -> tuple[str, ...]:
    """Return the start form's own jemput bola fields to hide when the service offers it as a case request."""
    return priority.FORM_FIELDS if priority.outreach_groups(service) else ()


def read_needs(form: FormData) -> tuple[priority.Needs, dict[str, str]]:
    """Read the priority and jemput bola fields; return the request and the values to show back."""
    values = {name: str(form.get(name) or "") for name in FIELDS}
    outreach = None
    if values["outreach"] == "1":
        outreach = priority.Outreach(values["outreach_for"], values["outreach_address"], values["outreach_contact"])
    return priority.Needs(values["priority"] or None, outreach), values


def labels(lang: str) -> list[Label]:
    """Return the error-summary labels of the fields in the page language."""
    def t(id_: str, en: str) -> str:
        return pick(lang, id_, en)

    return [Label("priority", "priority-none", t("Layanan prioritas", "Priority service")),
            Label("outreach", "f-outreach", t("Jemput bola", "Jemput bola (officer visit)")),
            Label("outreach_for", "f-outreach_for", t("Alasan jemput bola", "Reason for the visit")),
            Label("outreach_address", "f-outreach_address", t("Alamat kunjungan", "Address to visit")),
            Label("outreach_contact", "f-outreach_contact", t("Nomor telepon", "Phone number"))]
