"""The public service catalogue: each service's standard, grouped by the agency that runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases.assignment import APPLICANT_ROLE, agency_of
from engine.catalogue import registry as registry
from engine.errors import ProcessNotFound
from engine.models import Agency
from engine.runtime import Runtime


@dataclass(frozen=True)
class Step:
    """One step of a service as the public sees it: what happens and which agency does it."""

    name: str
    agency_id: str
    agency_en: str
    sla_days: int | None
    by_applicant: bool


@dataclass(frozen=True)
class Service:
    """A service standard (standar pelayanan) of the latest deployed version."""

    key: str
    version: int
    agency: str
    agency_id: str
    agency_en: str
    standard: dict[str, Any]
    steps: list[Step] = field(default_factory=list)


def _agency_names(session: Session) -> dict[str, tuple[str, str]]:
    return {code: (nid, nen) for code, nid, nen in session.execute(select(Agency.code, Agency.name_id, Agency.name_en))}


def list_services(session: Session) -> list[Service]:
    """Return every deployed service (latest version), by agency then name."""
    names = _agency_names(session)
    services = []
    for version in registry.latest_versions(session):
        code = str(version.service.get("agency") or "")
        nid, nen = names.get(code, (code, code))
        services.append(Service(version.key, version.version, code, nid, nen, version.service))
    return sorted(services, key=lambda s: (s.agency_id, str(s.standard.get("name", {}).get("id", s.key))))


def get_service(session: Session, *, rt: Runtime, key: str) -> Service:
    """Return one service's standard with its steps, in diagram order."""
    found = rt.specs.latest(session, key)
    if found is None:
        raise ProcessNotFound(f"no service '{key}'")
    version, compiled = found
    names = _agency_names(session)
    steps = []
    for meta in compiled.tasks.values():
        applicant = meta.role == APPLICANT_ROLE
        code = "" if applicant or not meta.role else agency_of(meta.role)
        nid, nen = ("Pemohon", "Applicant") if applicant else names.get(code, (code, code))
        steps.append(Step(meta.name, nid, nen, meta.sla_days, applicant))
    code = str(compiled.service.get("agency") or "")
    nid, nen = names.get(code, (code, code))
    return Service(key, version.version, code, nid, nen, compiled.service, steps)


def field_labels(session: Session, *, rt: Runtime, version_id: int) -> dict[str, tuple[str, str]]:
    """Return a label (Indonesian, English) for every form field of a process version."""
    compiled = rt.specs.get(session, version_id)
    labels: dict[str, tuple[str, str]] = {}
    for path, form in compiled.forms.items():
        if not path.endswith(".schema.json") or not isinstance(form, dict):
            continue
        ui = compiled.form(path.replace(".schema.json", ".uischema.json")) or {}
        for name, prop in (form.get("properties") or {}).items():
            if name in labels or not isinstance(prop, dict) or not prop.get("title"):
                continue
            title = str(prop["title"])
            en = (ui.get(name) or {}).get("ui:title_en") if isinstance(ui.get(name), dict) else None
            labels[name] = (title, str(en or title))
    return labels
