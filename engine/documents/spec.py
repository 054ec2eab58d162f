"""The `[document]` table of service.toml: which outcome yields a product and how it is printed.

```toml
[document]
title = { id = "Persetujuan Bangunan Gedung", en = "Building Approval" }
end_events = ["EndEvent_terbit"]          # end events (ids) that yield the product
template = "documents/pbg.html"           # optional: the platform's standard layout otherwise
number_field = "nomor_pbg"                # optional: case-data field with the document number
number_format = "SK-PBG-{yyyy}-{seq:04}"  # optional: the platform numbers it (engine/documents/numbering.py)
holder_field = "nama_pemohon"             # case-data field naming the holder
facts = [{ field = "alamat_bangunan", id = "Alamat bangunan", en = "Building address" }]
```
`facts` are the case-data fields printed on the document and shown on the public verification
page. Lint checks all of it, and renders the template once with sample data in the sandbox.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.bpmn.conventions import BPMN_NS
from engine.catalogue.package import Package
from engine.documents import numbering as numbering
from engine.errors import Problem

SERVICE = "service.toml"
DOCUMENT_KEYS = ("title", "end_events", "template", "number_field", "number_format", "holder_field", "facts")


@dataclass(frozen=True)
class Fact:
    """One case-data field shown on the document and the verification page."""

    field: str
    label_id: str
    label_en: str


@dataclass(frozen=True)
class DocumentSpec:
    """What a service's `[document]` table says."""

    title_id: str
    title_en: str
    end_events: tuple[str, ...]
    template: str | None
    number_field: str | None
    holder_field: str | None
    facts: tuple[Fact, ...]
    number_format: str | None = None


def spec_of(service: dict[str, Any]) -> DocumentSpec | None:
    """Read the `[document]` table of a (linted) service.toml; None when the service issues nothing."""
    table = service.get("document")
    if not isinstance(table, dict):
        return None
    title = table.get("title") or {}
    facts = tuple(Fact(str(f.get("field")), str(f.get("id")), str(f.get("en")))
                  for f in table.get("facts") or [] if isinstance(f, dict))
    return DocumentSpec(str(title.get("id", "")), str(title.get("en", "")),
                        tuple(str(e) for e in table.get("end_events") or []), table.get("template"),
                        table.get("number_field"), table.get("holder_field"), facts,
                        table.get("number_format"))


def _field_errors(table: dict[str, Any]) -> list[str]:
    from engine.bpmn.conventions import is_identifier

    errors: list[str] = []
    for key in ("number_field", "holder_field"):
        value = table.get(key)
        if value is not None and not (isinstance(value, str) and is_identifier(value)):
            errors.append(f"document.{key} must name a case-data field (letters, digits, _)")
    facts = table.get("facts", [])
    if not isinstance(facts, list):
        return [*errors, 'document.facts must be a list of { field = "...", id = "...", en = "..." } tables']
    for index, fact in enumerate(facts, start=1):
        if not isinstance(fact, dict) or not (isinstance(fact.get("field"), str) and is_identifier(fact["field"])):
            errors.append(f"document.facts item {index}: field must name a case-data field")
            continue
        errors += [f"document.facts item {index}: the {lang} label is missing" for lang in ("id", "en")
                   if not isinstance(fact.get(lang), str) or not fact[lang].strip()]
    return errors


def _end_event_ids(bpmn: list[tuple[str, Any]]) -> set[str]:
    return {str(e.get("id")) for _name, root in bpmn for e in root.iter(f"{{{BPMN_NS}}}endEvent")}


def table_errors(table: Any, bpmn: list[tuple[str, Any]]) -> list[str]:
    """Check a `[document]` table's shape and its end events; return what is wrong."""
    if not isinstance(table, dict):
        return ["[document] must be a table"]
    errors: list[str] = []
    title = table.get("title")
    if not isinstance(title, dict) or any(not isinstance(title.get(k), str) or not title[k].strip()
                                          for k in ("id", "en")):
        errors.append('document.title must be a table with Indonesian and English text: { id = "...", en = "..." }')
    ends = table.get("end_events")
    if not isinstance(ends, list) or not ends or not all(isinstance(e, str) for e in ends):
        errors.append('document.end_events must list the ids of the end events that yield the product, '
                      'e.g. ["EndEvent_terbit"]')
    else:
        known = _end_event_ids(bpmn)
        errors += [f"document.end_events: '{e}' is not the id of an end event in the package" for e in ends
                   if e not in known]
    template = table.get("template")
    if template is not None and not (isinstance(template, str) and template.endswith(".html")):
        errors.append('document.template must be the package path of an .html file, e.g. "documents/permit.html"')
    errors += _field_errors(table)
    errors += [f"document.{k}: unknown key is ignored (a typo?)" for k in sorted(table) if k not in DOCUMENT_KEYS]
    return errors


def document_problems(package: Package, service: dict[str, Any] | None, bpmn: list[tuple[str, Any]]) -> list[Problem]:
    """Lint the `[document]` table and its template (exists, compiles and renders in the sandbox)."""
    if not service or "document" not in service:
        return []
    problems = [Problem(SERVICE, None, m, "warning" if "unknown key" in m else "error")
                for m in table_errors(service["document"], bpmn)]
    table = service["document"]
    if isinstance(table, dict) and "number_format" in table:
        problems += [Problem(SERVICE, "document.number_format", en, message_id=id_)
                     for en, id_ in numbering.format_errors(table["number_format"])]
    spec = spec_of(service)
    if spec is None or any(p.severity == "error" for p in problems):
        return problems
    problems += typed_number_problems(package, spec)
    if spec.template is not None and spec.template not in package.files:
        return [*problems, Problem(SERVICE, None, f"document.template '{spec.template}' is not in the package")]
    from engine.documents import pdf as pdf

    where = spec.template or SERVICE
    try:
        pdf.render_document(sample_input(spec, service),
                            {name: raw for name, raw in package.files.items() if name.endswith(".html")})
    except pdf.TemplateFailed as exc:
        problems.append(Problem(exc.file or where, None, f"document template: {exc.message}"))
    return problems


def typed_number_problems(package: Package, spec: DocumentSpec) -> list[Problem]:
    """Warn where the platform draws the number (number_format) but a form still lets the officer type it.

    The signing step's form declares the number field `"readOnly": true`: its page then shows the
    number the document will get and offers the unsigned preview (engine/documents/preview.py).
    """
    if not spec.number_format or not spec.number_field:
        return []
    out = []
    for name, raw in sorted(package.files.items()):
        if not (name.startswith("forms/") and name.endswith(".schema.json")):
            continue
        try:
            prop = ((json.loads(raw).get("properties") or {}).get(spec.number_field))
        except (ValueError, AttributeError):
            continue  # the form lint names a form that is not a JSON object
        if isinstance(prop, dict) and prop.get("readOnly") is not True:
            out.append(Problem(
                name, spec.number_field,
                f"the platform gives the document number ([document] number_format), but this form lets the officer "
                f"type '{spec.number_field}': declare it \"readOnly\": true (the signing page then shows the number "
                "and a preview of the document), or drop number_format", "warning",
                f"platform memberi nomor dokumen ([document] number_format), tetapi formulir ini meminta petugas "
                f"mengetik '{spec.number_field}': nyatakan \"readOnly\": true (halaman penandatanganan lalu "
                "menampilkan nomornya dan pratinjau dokumen), atau hapus number_format"))
    return out


def _sample_number(spec: DocumentSpec, service: dict[str, Any]) -> str:
    if not spec.number_format:
        return "CONTOH/0001"
    ctx = numbering.NumberContext(process_key=str(service.get("key", "")), agency=str(service.get("agency", "")),
                                  at=datetime(2026, 1, 5, 3, tzinfo=UTC))
    return numbering.render(spec.number_format, seq=1, ctx=ctx)


def sample_input(spec: DocumentSpec, service: dict[str, Any]) -> Any:
    """Build render input with placeholder values, to try a template at lint time."""
    from engine.documents import pdf as pdf

    names = service.get("name") or {}
    data = {f.field: f"<{f.field}>" for f in spec.facts}
    if spec.holder_field:
        data[spec.holder_field] = "Nama Pemegang"
    return pdf.RenderInput(
        title_id=spec.title_id, title_en=spec.title_en, number=_sample_number(spec, service), holder="Nama Pemegang",
        agency_id=str(service.get("agency", "")), agency_en=str(service.get("agency", "")),
        service_id=str(names.get("id", "")), service_en=str(names.get("en", "")),
        issued_at=datetime(2026, 1, 5, 3, tzinfo=UTC), verify_url="https://mpp.example/verifikasi/CONTOH",
        code="CONTOH", key_id="0000000000000000", template=spec.template,
        facts=[(f.label_id, f.label_en, f"<{f.field}>") for f in spec.facts], data=data)
