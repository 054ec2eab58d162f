"""Verification in a real browser: the QR code's page, checking a PDF copy, a revoked document.

The case is driven through the engine (the PBG journey test drives one through the pages); its
document is issued by the worker's job, as in production.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pypdf
import pytest
from playwright.sync_api import Page, expect

from engine.db import transaction
from engine.documents import service as documents
from tests.browser.conftest import LiveServer
from tests.documents import actor_named, issued_pbg, pbg_cast


@pytest.fixture(scope="module")
def issued(live_server: LiveServer) -> tuple[str, str, int, str, bytes]:
    """A PBG document of the demo applicant: (tracking number, PIN, document id, code, PDF)."""
    ctx = live_server.ctx
    cast = pbg_cast(ctx, prefix="br", applicant=actor_named(ctx, "warga"))
    case, doc = issued_pbg(ctx, cast)
    with ctx.sessions() as session:
        _row, data = documents.document_pdf(session, settings=ctx.settings, document_id=doc.id)
    return case.tracking_number, case.pin, doc.id, doc.verify_code, data


def test_the_printed_qr_link_opens_a_page_that_says_authentic(
        page: Page, live_server: LiveServer, issued: tuple[str, str, int, str, bytes],
        axe_check: Callable[..., None], shot: Callable[[Page, str], object]) -> None:
    _number, _pin, _doc_id, code, pdf = issued
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    printed = f"{live_server.ctx.settings.public_url}/verifikasi/{code}"
    assert printed in text  # the QR code encodes the same URL (segno, from the same string)
    page.goto(live_server.url + printed.removeprefix(live_server.ctx.settings.public_url))
    expect(page.locator("#verify-status")).to_have_attribute("data-status", "authentic")
    expect(page.locator("#verify-status")).to_contain_text("Dokumen asli")
    expect(page.locator("#document-number")).to_have_text("PBG-3471-2026-0042")
    expect(page.locator("#document-holder")).to_have_text("Budi Santoso")
    axe_check(page)
    page.get_by_label("Berkas PDF").set_input_files({"name": "pbg.pdf", "mimeType": "application/pdf", "buffer": pdf})
    page.get_by_role("button", name="Periksa berkas").click()
    expect(page.locator("#check-result")).to_have_attribute("data-status", "authentic")
    forged = pdf.replace(b"PBG-3471-2026-0042", b"PBG-3471-2026-0099")
    page.get_by_label("Berkas PDF").set_input_files({"name": "pbg.pdf", "mimeType": "application/pdf",
                                                     "buffer": forged})
    page.get_by_role("button", name="Periksa berkas").click()
    expect(page.locator("#check-result")).to_have_attribute("data-status", "tampered")
    expect(page.locator("#check-result")).to_contain_text("Berkas telah diubah")
    axe_check(page)
    shot(page, "verify-tampered-upload")


def test_a_typed_code_and_an_unknown_code(page: Page, live_server: LiveServer,
                                          issued: tuple[str, str, int, str, bytes],
                                          axe_check: Callable[..., None]) -> None:
    _number, _pin, _doc_id, code, _pdf = issued
    page.goto(f"{live_server.url}/verifikasi")
    axe_check(page)
    page.get_by_label("Kode verifikasi").fill(code.lower())
    page.get_by_role("button", name="Periksa").click()
    expect(page.locator("#verify-status")).to_have_attribute("data-status", "authentic")
    page.goto(f"{live_server.url}/verifikasi/ABCDEFGHJKMNPQRS")
    expect(page.locator("#verify-status")).to_have_attribute("data-status", "unknown")
    axe_check(page)


def test_the_applicant_downloads_from_tracking_and_a_stranger_cannot(
        page: Page, live_server: LiveServer, issued: tuple[str, str, int, str, bytes]) -> None:
    number, pin, doc_id, _code, pdf = issued
    url = f"{live_server.url}/lacak/{number}/dokumen/{doc_id}"
    stranger = page.request.get(url, max_redirects=0)
    assert stranger.status == 303
    page.goto(f"{live_server.url}/lacak")
    page.get_by_label("Nomor lacak").fill(number)
    page.get_by_label("PIN").fill(pin)
    page.get_by_role("button", name="Lacak").click()
    expect(page).to_have_url(f"{live_server.url}/lacak/{number}")
    response = page.request.get(url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body() == pdf


def test_a_revoked_document_says_revoked(page: Page, live_server: LiveServer,
                                         issued: tuple[str, str, int, str, bytes],
                                         axe_check: Callable[..., None], shot: Callable[[Page, str], object]) -> None:
    _number, _pin, doc_id, code, pdf = issued
    ctx = live_server.ctx
    with transaction(ctx.sessions) as session:
        documents.revoke(session, document_id=doc_id, actor=actor_named(ctx, "admin"),
                         reason="Bangunan tidak sesuai gambar", now=ctx.rt.clock())
    page.goto(f"{live_server.url}/verifikasi/{code}")
    expect(page.locator("#verify-status")).to_have_attribute("data-status", "revoked")
    expect(page.locator("#revoke-reason")).to_have_text("Bangunan tidak sesuai gambar")
    axe_check(page)
    shot(page, "verify-revoked")
    page.get_by_label("Berkas PDF").set_input_files({"name": "pbg.pdf", "mimeType": "application/pdf", "buffer": pdf})
    page.get_by_role("button", name="Periksa berkas").click()
    expect(page.locator("#check-result")).to_have_attribute("data-status", "revoked")
