"""The labels of a deployed version's fields, read from its stored form files (forms.labels)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.bpmn.xmlsafe import parse_xml
from engine.errors import UnsafeXml
from engine.models import Agency, ProcessFile
from forms.labels import Labels

# A lane's dynamic binding names the case-data field holding an organisation's code (bpmn-conventions.md).
BIND_ORGANISATION = re.compile(rb'name="bindOrganisation"\s+value="([A-Za-z0-9_]+)"')


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def stored_files(session: Session, version_id: int, prefix: str) -> dict[str, bytes]:
    """Return a deployed version's stored files whose names start with `prefix`, name → content."""
    return dict(session.execute(select(ProcessFile.name, ProcessFile.content).where(
        ProcessFile.version_id == version_id, ProcessFile.name.startswith(prefix, autoescape=True))).all())


@dataclass(frozen=True)
class VersionForms:
    """What a version's labels come from in its stored files: its forms (schema and UI schema, parsed) and the
    case-data fields its lanes bind organisations to. A version's files never change: read once per version
    (engine.runtime.Runtime.labels)."""

    forms: tuple[tuple[Any, Any], ...]
    bound: frozenset[str]


def version_forms(session: Session, *, version_id: int) -> VersionForms:
    """Read and parse a process version's forms and the organisation fields its diagrams bind."""
    files = dict(session.execute(select(ProcessFile.name, ProcessFile.content).where(
        ProcessFile.version_id == version_id,
        or_(ProcessFile.name.like("forms/%.json"), ProcessFile.name.like("%.bpmn")))).all())
    forms = []
    for name in sorted(files):
        if name.startswith("forms/") and name.endswith(".schema.json"):
            ui = files.get(name.removesuffix(".schema.json") + ".uischema.json")
            forms.append((_json(files[name]), _json(ui) if ui is not None else None))
    bound = frozenset(m.decode() for name, raw in files.items() if name.endswith(".bpmn")
                      for m in BIND_ORGANISATION.findall(raw))
    return VersionForms(tuple(forms), bound)


def labels_for_version(session: Session, *, version_id: int, forms: VersionForms | None = None) -> Labels:
    """Return the field and value labels of a process version (its forms, and the organisations it binds).

    `forms`: the version's, read already (`version_forms`). The organisations' names are read each time: an
    organisation registered since is named too.
    """
    found = forms if forms is not None else version_forms(session, version_id=version_id)
    organisations: dict[str, dict[str, tuple[str, str]]] = {}
    if found.bound:
        names = {code: (name_id, name_en) for code, name_id, name_en in session.execute(
            select(Agency.code, Agency.name_id, Agency.name_en)).all()}
        organisations = dict.fromkeys(found.bound, names)
    return Labels.from_forms(list(found.forms), organisations)


HUMAN_TASKS = ("userTask", "manualTask", "task")


def step_names(session: Session, *, version_id: int) -> dict[str, tuple[str, str]]:
    """Return element id → (Indonesian, English) name of every human task of a version.

    The English name is the task's `nameEn` extension property, else its `stageEn` (the stage the
    applicant reads, which names the step well enough), else the Indonesian name.
    """
    names: dict[str, tuple[str, str]] = {}
    rows = session.execute(select(ProcessFile.name, ProcessFile.content).where(
        ProcessFile.version_id == version_id, ProcessFile.name.like("%.bpmn"))).all()
    for filename, raw in rows:
        try:
            root = parse_xml(raw, filename=filename)
        except UnsafeXml:  # deployment refuses such files; a stored one is at worst unnamed here
            continue
        for element in root.iter():
            if not isinstance(element.tag, str) or etree.QName(element).localname not in HUMAN_TASKS:
                continue
            element_id, name = element.get("id"), element.get("name") or element.get("id") or ""
            props = {p.get("name"): p.get("value") for p in element.iter()
                     if isinstance(p.tag, str) and etree.QName(p).localname == "property"}
            if element_id:
                names[element_id] = (name, props.get("nameEn") or props.get("stageEn") or name)
    return names
