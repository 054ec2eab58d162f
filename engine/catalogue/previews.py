"""Sample case data and template previews for the studio, rendered in the engine's sandboxes.

`preview_template` renders a draft's document or notification template with sample case data
through the engine's own sandboxed renderers, in their isolated processes.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.bpmn import conventions as cv
from engine.catalogue.standard import (
    SERVICE,
    DocumentForm,
    Message,
    StandardUnreadable,
    Text,
    as_dicts,
    as_str,
    as_text,
    json_object,
    parse,
    read_document,
)
from engine.errors import InvalidInput

# ---------------------------------------------------------------- sample case data

_DIGITS = re.compile(r"^\^?\[0-9\]\{(\d{1,3})\}\$?$|^\^?\\d\{(\d{1,3})\}\$?$")


def sample_value(name: str, prop: dict[str, Any], depth: int = 0) -> Any:
    """Return a plausible value for one form field, from its JSON Schema."""
    for key in ("const", "default"):
        if key in prop:
            return prop[key]
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return prop["enum"][0]
    kind = prop.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind in ("integer", "number"):
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0))
        return max(int(low) + (1 if "exclusiveMinimum" in prop else 0), 1) if isinstance(low, int | float) else 1
    if kind == "boolean":
        return True
    if kind == "object" and depth < 3:
        return {k: sample_value(k, v, depth + 1) for k, v in (prop.get("properties") or {}).items()
                if isinstance(v, dict)}
    if kind == "array":
        items = prop.get("items")
        count = prop.get("minItems", 1) if isinstance(prop.get("minItems", 1), int) else 1
        return [sample_value(name, items, depth + 1)] * min(max(count, 1), 3) if isinstance(items, dict) and \
            depth < 3 else []
    return _sample_text(name, prop)


def _sample_text(name: str, prop: dict[str, Any]) -> str:
    formats = {"date": "2026-01-05", "date-time": "2026-01-05T09:00:00+07:00", "email": "pemohon@contoh.id",
               "time": "09:00:00", "uri": "https://contoh.id"}
    if prop.get("format") in formats:
        return formats[prop["format"]]
    digits = _DIGITS.match(str(prop.get("pattern", "")))
    if digits:
        return ("3471" + "0123456789" * 30)[:int(digits[1] or digits[2])]
    text = f"Contoh {prop.get('title') or name}"
    low, high = prop.get("minLength", 0), prop.get("maxLength", 200)
    text = text.ljust(low if isinstance(low, int) and low < 1000 else 0, "x")
    return text[:high] if isinstance(high, int) and high > 0 else text


def sample_data(files: Mapping[str, bytes]) -> dict[str, Any]:
    """Return sample case data: the start form's fields, and the fields the document prints."""
    try:
        service = parse(files.get(SERVICE, b""))
    except StandardUnreadable:
        service = {}
    start = service.get("start_form")
    schema = json_object(files[start]) if isinstance(start, str) and start in files else {}
    data = {k: sample_value(k, v) for k, v in (schema.get("properties") or {}).items() if isinstance(v, dict)}
    document = read_document(service["document"]) if isinstance(service.get("document"), dict) else None
    if document is not None:
        for name, value in [(document.holder_field, "Nama Pemegang"), (document.number_field, "CONTOH/0001"),
                            *((f.field, f"Contoh {f.label.id or f.field}") for f in document.facts)]:
            if name and cv.is_identifier(name):
                data.setdefault(name, value)
    return data


# ---------------------------------------------------------------- template previews

EVENT_LABELS: dict[str, Message] = {
    "received": ("Permohonan diterima", "Application received"),
    "sent_back": ("Berkas dikembalikan untuk diperbaiki", "Sent back for fixes"),
    "payment_due": ("Tagihan pembayaran", "Payment due"), "overdue": ("Lewat batas waktu", "Overdue"),
    "result_ready": ("Hasil siap diambil", "Result ready"),
}
NOTIFICATION = re.compile(r"^notifications/(id|en)/([a-z_]+)\.txt$")
DOCUMENT = re.compile(r"^documents/[A-Za-z0-9_.-]+\.html$")


class TemplateInvalid(InvalidInput):
    """A template failed to compile or render with the sample data; says where when it can."""

    def __init__(self, message: str, *, message_id: str, line: int | None = None, file: str | None = None) -> None:
        super().__init__(message, message_id=message_id)
        self.line, self.file = line, file


@dataclass(frozen=True)
class Preview:
    """A template rendered with sample data: a document's HTML (and PDF), or a notification's subject and body."""

    kind: str
    html: str = ""
    pdf: bytes = b""
    subject: str = ""
    body: str = ""
    agency: str = ""
    service: str = ""


def template_kind(name: str) -> str | None:
    """Tell what a package path holds: "document", "notification", or None for neither."""
    match = NOTIFICATION.match(name)
    if match:
        return "notification" if match[2] in EVENT_LABELS else None
    return "document" if DOCUMENT.match(name) else None


def _template_line(exc: BaseException | None) -> int | None:
    """Return the template line a Jinja2 error happened on (Jinja2 puts template lines in the traceback)."""
    if exc is None:
        return None
    line = getattr(exc, "lineno", None)
    frames = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return frames[-1] if frames else line if isinstance(line, int) else None


def render_document_html(item: Any, files: dict[str, bytes]) -> tuple[str, str, str | None, int | None]:
    """Render a document template to HTML (in the render child); ("ok", html, ...) or ("error", message, file, line)."""
    from engine.documents import pdf

    try:
        return "ok", pdf.render_html(item, files), None, None
    except pdf.TemplateFailed as exc:
        match = re.match(r"^line (\d+): (.*)$", exc.message, re.S)
        if match:
            return "error", match[2], exc.file, int(match[1])
        return "error", exc.message, exc.file, _template_line(exc.__cause__)


def render_notification_text(source: str, values: dict[str, Any]) -> tuple[str, str, int | None]:
    """Render a notification template (in an isolation worker); ("ok", text, None) or ("error", message, line)."""
    from engine.notify import templates

    try:
        return "ok", templates._render_here(source, values), None  # the engine's own sandboxed environment
    except templates.TemplateProblem as exc:
        return "error", exc.message, exc.line or _template_line(exc.__context__)


def _failed(message: str, line: int | None, file: str | None = None) -> TemplateInvalid:
    where_id = f" (baris {line})" if line else ""
    where_en = f" (line {line})" if line else ""
    return TemplateInvalid(f"The template cannot be shown{where_en}: {message}",
                           message_id=f"Templat tidak dapat ditampilkan{where_id}: {message}", line=line, file=file)


def preview_template(files: Mapping[str, bytes], *, name: str, source: str, data: dict[str, Any],
                     lang: str = "id") -> Preview:
    """Render a draft's template with sample case data in the sandbox, as the engine would."""
    try:
        service = parse(files.get(SERVICE, b""))
    except StandardUnreadable:
        service = {}
    kind = template_kind(name)
    if kind == "document":
        return _document_preview(service, files, name=name, source=source, data=data)
    if kind == "notification":
        return _notification_preview(service, name=name, source=source, data=data)
    raise InvalidInput(f"'{name}' is not a template: use documents/<name>.html or notifications/<id|en>/<event>.txt",
                       message_id=f"'{name}' bukan templat: pakai documents/<nama>.html atau "
                                  "notifications/<id|en>/<peristiwa>.txt")


def _names(value: Any, fallback: str) -> tuple[str, str]:
    text = as_text(value)
    return text.id or text.en or fallback, text.en or text.id or fallback


def _document_preview(service: dict[str, Any], files: Mapping[str, bytes], *, name: str, source: str,
                      data: dict[str, Any]) -> Preview:
    from datetime import UTC, datetime

    from engine.documents import isolate, pdf

    code = as_str(service.get("agency"))
    declared = next((a for a in as_dicts(service.get("agencies")) if a.get("code") == code), {})
    agency_id, agency_en = _names(declared.get("name"), code)
    service_id, service_en = _names(service.get("name"), as_str(service.get("key")))
    spec = read_document(service["document"]) if isinstance(service.get("document"), dict) else DocumentForm(
        Text(service_id, service_en))

    def shown(field_name: str, fallback: str) -> str:
        value = data.get(field_name) if field_name else None
        return fallback if value is None or value == "" else str(value)

    item = pdf.RenderInput(
        title_id=spec.title.id or service_id, title_en=spec.title.en or service_en,
        number=shown(spec.number_field, "CONTOH/0001"), holder=shown(spec.holder_field, "Nama Pemegang"),
        agency_id=agency_id, agency_en=agency_en, service_id=service_id, service_en=service_en,
        issued_at=datetime(2026, 1, 5, 3, tzinfo=UTC), verify_url="https://mpp.example/verifikasi/CONTOH",
        code="CONTOH", key_id="0000000000000000", template=name,
        facts=[(f.label.id, f.label.en, shown(f.field, "")) for f in spec.facts], data=data)
    html_files = {n: raw for n, raw in files.items() if n.endswith(".html")}
    html_files[name] = source.encode("utf-8")
    limits = isolate.ChildLimits(timeout_s=pdf.RENDER_TIMEOUT_S, memory_mb=pdf.RENDER_MEMORY_MB)
    try:
        status, text, file, line = isolate.run(render_document_html, item, html_files, limits=limits)
        if status != "ok":
            raise _failed(text, line, file)
        document = pdf.render_document(item, html_files)  # the layout too: what fpdf2 cannot print fails here
    except isolate.IsolationLimit as exc:
        raise _failed(f"rendering {exc.message}", None) from exc
    except pdf.TemplateFailed as exc:
        raise _failed(exc.message, None, exc.file) from exc
    return Preview("document", html=text, pdf=document, agency=agency_id, service=service_id)


def _notification_preview(service: dict[str, Any], *, name: str, source: str, data: dict[str, Any]) -> Preview:
    from engine import isolation
    from engine.notify import templates

    match = NOTIFICATION.match(name)
    lang, event = (match[1], match[2]) if match else ("id", "received")
    service_id, service_en = _names(service.get("name"), as_str(service.get("key")))
    task = None if event in ("received", "result_ready") else {
        "name": "Pemeriksaan berkas" if lang == "id" else "Document check",
        "due": templates.format_due("2026-01-07T09:00:00+00:00", lang)}
    values = {"lang": lang, "event": event, "tracking_number": "MPP-2026-000123",
              "service": service_id if lang == "id" else service_en,
              "stage": "Pemeriksaan berkas" if lang == "id" else "Document check", "status": "running",
              "outcome": "Selesai" if lang == "id" else "Completed", "portal_url": "https://mpp.example",
              "task": task, "data": data}
    try:
        status, text, line = isolation.run(render_notification_text, source, values, limits=templates.TEMPLATE_LIMITS)
    except isolation.IsolationLimit as exc:
        raise _failed(f"rendering {exc.message}", None) from exc
    if status != "ok":
        raise _failed(text, line)
    subject, body = templates.split(text)
    if not subject:
        raise _failed("the first line, the e-mail's subject, is empty", 1)
    return Preview("notification", subject=subject, body=body, service=service_id if lang == "id" else service_en)


def starter(name: str) -> str:
    """Return the first text of a new template: the platform's own notification, or a layout to adapt."""
    match = NOTIFICATION.match(name)
    if match:
        from engine.notify.templates import TEMPLATES

        path = TEMPLATES / match[1] / f"{match[2]}.txt"
        return path.read_text("utf-8") if path.is_file() else ""
    return STARTER_DOCUMENT


STARTER_DOCUMENT = """{#- The platform's layout with this service's own text. Blocks: heading, opening, body, closing,
    signature. Context: doc (title, number, holder, agency, service, issued_date, ...), facts, data. -#}
{% extends "mpp/document.html" %}
{% block opening %}
<p>Berdasarkan permohonan yang telah memenuhi persyaratan, {{ doc.agency }} menerbitkan {{ doc.title }} kepada:</p>
<br>
{% endblock %}
"""
