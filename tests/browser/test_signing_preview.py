"""The head of office signs a PBG in a real browser: the number the platform will give, shown read-only;
the unsigned preview (watermarked PDF); then the signature, and the issued PDF carrying that number."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pypdf
from playwright.sync_api import Page, expect

from engine.documents import service as documents
from tests.browser.conftest import LiveServer, pbg_case_to
from tests.factories import Driver, make_user, pbg_application


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def _to_signing(live_server: LiveServer) -> int:
    """File a PBG case as the demo applicant and take it up to the head of office's signature."""
    return pbg_case_to(live_server, "Task_tanda_tangan")


def test_the_head_of_office_previews_then_signs_and_the_pdf_carries_the_number(
        page: Page, live_server: LiveServer, login: Callable[[Page, str], None],
        axe_check: Callable[..., None], shot: Callable[[Page, str], object]) -> None:
    case_id = _to_signing(live_server)
    d = Driver(live_server.ctx)
    task = d.task(case_id, "Task_tanda_tangan")
    login(page, "dpmptsp_kepala")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/tugas/{task.id}")
    number = page.locator("#signing-number")
    expect(number).to_have_text(re.compile(r"^SK-PBG-3471-\d{8}-\d{3}$"))
    shown = number.inner_text()
    expect(page.locator("input[name=nomor_pbg]")).to_have_count(0)
    preview = page.get_by_role("link", name="Pratinjau dokumen (PDF, belum ditandatangani)")
    expect(preview).to_be_visible()
    axe_check(page)
    shot(page, "signing-task-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "signing-task-390")

    href = preview.get_attribute("href")
    assert href
    answer = page.request.get(live_server.url + href)  # the browser's own session
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    text = _pdf_text(answer.body())
    assert "PRATINJAU - BELUM DITANDATANGANI / PREVIEW - NOT SIGNED" in text
    assert shown in text
    with live_server.ctx.sessions() as session:
        assert documents.list_for_case(session, case_id=case_id) == []

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Tanggal terbit PBG").fill("2026-03-02")
    page.get_by_role("button", name="Selesaikan tugas").click()
    expect(page.locator("main")).to_contain_text("Kasus selesai")
    d.run_jobs()
    with live_server.ctx.sessions() as session:
        [doc] = documents.list_for_case(session, case_id=case_id)
        _row, data = documents.document_pdf(session, settings=live_server.ctx.settings, document_id=doc.id)
    assert doc.number == shown
    issued = _pdf_text(data)
    assert shown in issued
    assert "PRATINJAU" not in issued


def test_a_dashboard_figure_opens_the_filtered_case_list(
        page: Page, live_server: LiveServer, login: Callable[[Page, str], None],
        axe_check: Callable[..., None], shot: Callable[[Page, str], object]) -> None:
    ctx = live_server.ctx
    applicant = make_user(ctx, "s_warga2")
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(nama_pemohon="Rina Lestari"), applicant, channel="tatap_muka")
    login(page, "admin")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/dasbor?layanan=pbg")
    page.locator('tr[data-service="pbg"] a[data-drill="open"]').click()
    expect(page).to_have_url(re.compile(r"/kasus\?layanan=pbg&status=berjalan$"))
    expect(page.locator("#active-filters")).to_contain_text("Status: berjalan")
    row = page.locator(f'tr[data-case="{case.id}"]')
    expect(row).to_contain_text(case.tracking_number)
    expect(row).to_contain_text("R*** L******")  # a list shows the name masked (docs/privacy.md)
    expect(row).not_to_contain_text("Rina Lestari")
    axe_check(page)
    shot(page, "case-list-drilldown-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "case-list-drilldown-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/dasbor?layanan=pbg")
    page.locator('tr[data-step="Task_kelengkapan"] a[data-drill="open"]').click()
    expect(page.locator(f'tr[data-case="{case.id}"]')).to_be_visible()
    shot(page, "dashboard-drilldown-step")
