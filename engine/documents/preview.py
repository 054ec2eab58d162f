"""The signing step's view of the document to come: the number it will get, and a PDF preview.

The signing step is the task whose form holds the service's `[document] number_field` (read-only
when the platform numbers the document, docs/bpmn-conventions.md). The preview is rendered from
the case's current data by the issued document's renderer, marked PRATINJAU across every page and
without QR code or verification code; nothing is stored, drawn, signed or counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.documents import numbering as numbering
from engine.documents import pdf as pdf
from engine.documents.service import DocumentNotFound, render_input, template_files
from engine.documents.spec import DocumentSpec, spec_of
from engine.errors import InvalidInput
from engine.models import Case, ProcessVersion

if TYPE_CHECKING:
    from engine.settings import Settings

WATERMARK = "PRATINJAU \u2014 BELUM DITANDATANGANI / PREVIEW \u2014 NOT SIGNED"
PREVIEW_CODE = "PRATINJAU"


class PreviewFailed(InvalidInput):
    """The service's document template cannot print this case's data (yet)."""


@dataclass(frozen=True)
class SigningInfo:
    """What the signing step shows about the document its signature issues."""

    title_id: str
    title_en: str
    number: str  # "" when the officer types it
    generated: bool  # the platform gives the number (number_format), so the form does not ask for it
    drawn: bool = False  # the number is the case's own already; otherwise the next free one, which
    # another document issued first may take (the number is drawn when the document is issued)


def _spec(session: Session, case: Case) -> tuple[DocumentSpec, dict[str, Any]] | None:
    service = session.scalar(select(ProcessVersion.service).where(ProcessVersion.id == case.process_version_id))
    spec = spec_of(service or {})
    return None if spec is None or service is None else (spec, service)


def _number(session: Session, case: Case, spec: DocumentSpec, service: dict[str, Any], now: datetime) -> str:
    typed = str((case.data or {}).get(spec.number_field) or "").strip() if spec.number_field else ""
    if typed or not spec.number_format:
        return typed
    ctx = numbering.NumberContext(process_key=str(service.get("key", case.process_key)),
                                  agency=str(service.get("agency", "")), at=now)
    return numbering.number_of(session, case_id=case.id) or numbering.next_number(
        session, fmt=spec.number_format, ctx=ctx)


def signing_info(session: Session, *, case: Case, schema: dict[str, Any] | None, now: datetime,
                 ) -> SigningInfo | None:
    """Return the document a task's completion may issue, when the task is its case's signing step."""
    found = _spec(session, case)
    if found is None:
        return None
    spec, service = found
    prop = ((schema or {}).get("properties") or {}).get(spec.number_field or "")
    if not spec.number_field or not isinstance(prop, dict):
        return None
    # A form that still asks for the number (not read-only) lets the officer type it: nothing to announce.
    generated = bool(spec.number_format) and prop.get("readOnly") is True
    if not generated:
        return SigningInfo(spec.title_id, spec.title_en, "", False)
    drawn = numbering.number_of(session, case_id=case.id) is not None
    return SigningInfo(spec.title_id, spec.title_en, _number(session, case, spec, service, now), True, drawn)


def preview_pdf(session: Session, *, settings: Settings, case: Case, now: datetime) -> bytes:
    """Render the case's document as it would be issued now, watermarked as an unsigned preview."""
    found = _spec(session, case)
    if found is None:
        raise DocumentNotFound(f"the service of case {case.id} issues no document")
    spec, service = found
    item = render_input(session, settings=settings, case=case, spec=spec, service=service, code=PREVIEW_CODE,
                        key_id="-", now=now, number=_number(session, case, spec, service, now),
                        watermark=WATERMARK)
    try:
        return pdf.render_document(item, template_files(session, version_id=case.process_version_id))
    except pdf.TemplateFailed as exc:
        raise PreviewFailed(f"the document cannot be previewed yet: {exc.message}") from exc
