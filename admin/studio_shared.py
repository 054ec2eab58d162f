"""What every studio page shares: problems as JSON, a draft's JSON errors, the editor of each file."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from engine.catalogue import previews
from engine.catalogue.drafts import DraftConflict
from engine.errors import DomainError, Problem
from engine.lint.text import localize
from web.errors import error_page
from web.session import language
from web.templates import pick

STATUS = {"not-found": 404, "forbidden": 403, "conflict": 409, "bad-request": 422, "package-invalid": 422}


def problems_json(problems: list[Problem], lang: str) -> list[dict[str, Any]]:
    """Return lint problems for the page, in the user's language, each with its file and element."""
    problems = localize(problems, [])  # problems found before lint (reading the upload) too
    severity = {"error": pick(lang, "galat", "error"), "warning": pick(lang, "peringatan", "warning")}
    return [{"file": p.file, "element_id": p.element_id, "element_name": p.element_name, "message": p.text(lang),
             "severity": p.severity, "severity_label": severity.get(p.severity, p.severity)} for p in problems]


def error_json(request: Request, exc: DomainError) -> JSONResponse:
    """Answer a studio fetch call that failed with the error's message in the user's language."""
    body: dict[str, Any] = {"detail": exc.text(language(request))}
    if isinstance(exc, DraftConflict):
        body["conflict"] = {"file": exc.name, "by": exc.by, "at": exc.at.isoformat(), "revision": exc.revision}
    return JSONResponse(body, status_code=STATUS.get(exc.code, 422))


def missing_draft(request: Request, exc: DomainError) -> Response:
    """Answer a draft page the actor may not open (or that does not exist): 404, in the user's language."""
    return error_page(request, 404, "Draf tidak ditemukan", "Draft not found", exc.text(language(request)))


def editor_url(draft_id: int, name: str) -> str | None:
    """Return the studio page that edits a draft's file, by kind (None: the plain text editor)."""
    base = f"/studio/draf/{draft_id}"
    if name.endswith(".bpmn"):
        return f"{base}/diagram?nama={name}"
    if name.startswith("forms/") and name.endswith(".uischema.json"):
        return f"{base}/formulir?nama={name.removesuffix('.uischema.json')}.schema.json"
    if name.startswith("forms/") and name.endswith(".schema.json"):
        return f"{base}/formulir?nama={name}"
    if name == "service.toml":
        return f"{base}/standar"
    if name.endswith(".dmn"):
        return f"{base}/dmn?nama={name}"
    if previews.template_kind(name) is not None:
        return f"{base}/templat?nama={name}"
    if name.startswith("tests/") and name.endswith(".toml"):
        return f"{base}/uji-coba"
    return None


KINDS = (
    ("diagram", "Diagram BPMN", "BPMN diagrams"),
    ("form", "Formulir", "Forms"),
    ("standard", "Standar pelayanan", "Service standard"),
    ("decision", "Tabel keputusan (DMN)", "Decision tables (DMN)"),
    ("template", "Templat dokumen dan notifikasi", "Document and notification templates"),
    ("scenario", "Skenario uji", "Scenario tests"),
    ("other", "Berkas lain", "Other files"),
)


def kind_of(name: str) -> str:
    """Return the group a draft's file is listed under."""
    if name.endswith(".bpmn"):
        return "diagram"
    if name.startswith("forms/") and name.endswith(".json"):
        return "form"
    if name == "service.toml":
        return "standard"
    if name.endswith(".dmn"):
        return "decision"
    if name.startswith("tests/") and name.endswith(".toml"):
        return "scenario"
    if name.endswith((".html", ".txt")):
        return "template"
    return "other"
