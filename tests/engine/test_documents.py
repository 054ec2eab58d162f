"""Issued documents: a completed case yields one signed PDF whose verification says authentic."""

from __future__ import annotations

import io

import pypdf
import pytest
import segno
from PIL import Image
from sqlalchemy import select

from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import SYSTEM
from engine.documents import filestore as filestore
from engine.documents import service as documents
from engine.documents.signing import signer_for
from engine.errors import InvalidInput
from engine.models import AuditEntry, IssuedDocument, Job
from tests.conftest import FakeClock
from tests.documents import complete_pbg, drive_to_bill, issued_pbg, pbg_cast
from tests.factories import Driver, make_user


def qr_image(data: bytes) -> bytes:
    """Return the pixels of the one image on the PDF's first page (the QR code), black and white."""
    [image] = pypdf.PdfReader(io.BytesIO(data)).pages[0].images
    return image.image.convert("1").tobytes()


def qr_of(url: str) -> bytes:
    """Return the pixels of the QR code the platform draws for a URL (segno is deterministic)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=2)
    return Image.open(buffer).convert("1").tobytes()


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_completed_pbg_case_yields_one_signed_pdf_that_verifies(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    case_id = complete_pbg(ctx, cast).id
    with ctx.sessions() as session:
        assert documents.list_for_case(session, case_id=case_id) == []  # issued by the worker, not the step
    Driver(ctx).run_jobs()
    with ctx.sessions() as session:
        [doc] = documents.list_for_case(session, case_id=case_id)
        row, data = documents.document_pdf(session, settings=ctx.settings, document_id=doc.id)
        signer = signer_for(ctx.settings)
        view = documents.public_view(session, code=doc.verify_code, signer=signer)
    assert (doc.number, doc.title_id) == ("PBG-3471-2026-0042", "Persetujuan Bangunan Gedung")
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    url = f"{ctx.settings.public_url}/verifikasi/{doc.verify_code}"
    assert url in text  # printed under the QR code
    assert "PBG-3471-2026-0042" in text
    assert "Budi Santoso" in text
    assert "Retribusi PBG: Rp275.644" in text  # the package's own template
    assert pypdf.PdfReader(io.BytesIO(data)).metadata.subject == url
    assert qr_image(data) == qr_of(url)  # the QR code printed is exactly the one of this URL
    other = url[:-1] + ("X" if url[-1] != "X" else "Y")  # one character changed (the code may end in X)
    assert qr_image(data) != qr_of(other)
    assert view is not None
    assert (view.status, view.holder, view.number) == ("authentic", "Budi Santoso", "PBG-3471-2026-0042")
    assert view.agency_id == "DPMPTSP Kota Yogyakarta"
    assert {"label_id": "Alamat bangunan", "label_en": "Building address",
            "value": "Jl. Malioboro 10, Yogyakarta", "value_en": "Jl. Malioboro 10, Yogyakarta"} in view.facts
    assert view.issued_at == ctx.rt.clock()
    assert row.sha256 == filestore.blob_path(ctx.settings.files_dir, row.sha256).name


def test_the_document_is_issued_exactly_once(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    case, doc = issued_pbg(ctx, cast)
    case_id = case.id
    Driver(ctx).run_jobs()
    with transaction(ctx.sessions) as session:
        again = documents.issue_for_case(session, rt=ctx.rt, case_id=case_id)
        assert again is not None
        assert again.id == doc.id
        assert len(list(session.scalars(select(IssuedDocument).where(IssuedDocument.case_id == case_id)))) == 1
        jobs = list(session.scalars(select(Job).where(Job.kind == documents.JOB_KIND, Job.case_id == case_id)))
    assert [j.status for j in jobs] == ["done"]
    assert [e.action for e in Driver(ctx).events(case_id)][-1] == "document_issued"


def test_an_expired_application_yields_no_document(ctx: AppContext, clock: FakeClock) -> None:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case_id = drive_to_bill(d, cast).id
    clock.advance(days=31)
    d.run_jobs()
    d.run_jobs()
    row = d.case(case_id)
    assert (row.status, row.outcome) == ("completed", "Permohonan kedaluwarsa")
    with ctx.sessions() as session:
        assert documents.list_for_case(session, case_id=case_id) == []
        assert session.scalar(select(Job.id).where(Job.kind == documents.JOB_KIND)) is None
        assert session.scalar(select(IssuedDocument.id)) is None


def test_uploaded_copies_are_authentic_tampered_or_revoked(ctx: AppContext, clock: FakeClock) -> None:
    cast = pbg_cast(ctx)
    _case_id, doc = issued_pbg(ctx, cast)
    signer = signer_for(ctx.settings)
    with ctx.sessions() as session:
        _row, original = documents.document_pdf(session, settings=ctx.settings, document_id=doc.id)
        assert documents.check_upload(session, code=doc.verify_code, data=original, signer=signer).status \
            == "authentic"
        changed = original.replace(b"PBG-3471-2026-0042", b"PBG-3471-2026-0043")
        assert changed != original
        check = documents.check_upload(session, code=doc.verify_code, data=changed, signer=signer)
        assert (check.status, check.expected_sha256) == ("tampered", _row.sha256)
        assert documents.check_upload(session, code="ZZZZZZZZZZZZZZZZ", data=original, signer=signer).status \
            == "unknown"
    admin = make_user(ctx, "admin_doc", platform_role="admin")
    clock.advance(days=3)
    with transaction(ctx.sessions) as session:
        documents.revoke(session, document_id=doc.id, actor=admin, reason="Bangunan dibongkar", now=clock())
    with ctx.sessions() as session:
        view = documents.public_view(session, code=doc.verify_code.lower(), signer=signer)
        assert view is not None
        assert (view.status, view.revoke_reason, view.revoked_at) == ("revoked", "Bangunan dibongkar", clock())
        assert documents.check_upload(session, code=doc.verify_code, data=original, signer=signer).status \
            == "revoked"
        audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "document.revoke"))
        assert audit is not None
        assert (audit.actor, audit.subject) == ("admin_doc", f"document:{doc.id}")
    with transaction(ctx.sessions) as session, pytest.raises(InvalidInput):
        documents.revoke(session, document_id=doc.id, actor=admin, reason="again", now=clock())


def test_a_row_whose_hash_was_changed_is_reported_tampered(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    _case_id, doc = issued_pbg(ctx, cast)
    forged = b"%PDF-1.4 forged"
    with transaction(ctx.sessions) as session:
        row = session.get(IssuedDocument, doc.id)
        assert row is not None
        row.sha256 = filestore.hashlib.sha256(forged).hexdigest()  # someone edits the database
    with ctx.sessions() as session:
        signer = signer_for(ctx.settings)
        view = documents.public_view(session, code=doc.verify_code, signer=signer)
        assert view is not None
        assert view.status == "tampered"
        assert documents.check_upload(session, code=doc.verify_code, data=forged, signer=signer).status == "tampered"


def test_revoking_needs_a_reason(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    _case_id, doc = issued_pbg(ctx, cast)
    with transaction(ctx.sessions) as session, pytest.raises(InvalidInput):
        documents.revoke(session, document_id=doc.id, actor=SYSTEM, reason="  ", now=ctx.rt.clock())
