"""Labels, the send-back reason and the error summary in a real browser, on a 390 px phone screen."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.documents import actor_named, pbg_cast
from tests.factories import Driver, pbg_application

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def sent_back(live_server: LiveServer) -> tuple[str, str]:
    """A PBG case of the demo applicant sent back for a missing paper: (tracking number, applicant task id)."""
    ctx = live_server.ctx
    cast = pbg_cast(ctx, prefix="lbl", applicant=actor_named(ctx, "warga"))
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant, channel="drive_thru")
    d.complete(case.id, "Task_kelengkapan", cast.front,
               {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": "Sertifikat tanah belum diunggah."})
    return case.tracking_number, d.task(case.id, "Task_melengkapi").id


def test_the_applicant_reads_why_and_the_summary_names_fields(
        page: Page, live_server: LiveServer, sent_back: tuple[str, str], login: Callable[[Page, str], None],
        axe_check: Callable[..., None], shot: Callable[[Page, str], object]) -> None:
    number, task_id = sent_back
    page.set_viewport_size(PHONE)
    login(page, "warga")
    page.goto(f"{live_server.url}/permohonan-saya/tugas/{task_id}")
    reason = page.locator('[data-reason="send_back_reason"]')
    expect(reason).to_contain_text("Sertifikat tanah belum diunggah.")
    expect(reason).to_contain_text("Pemeriksaan kelengkapan berkas")
    page.get_by_label("Dokumen tambahan").set_input_files(
        {"name": "evil.html", "mimeType": "application/pdf", "buffer": b"<script>alert(1)</script>"})
    page.get_by_role("button", name="Kirim").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Dokumen tambahan")).to_be_visible()
    expect(summary.get_by_role("link", name="Keterangan perbaikan")).to_be_visible()
    summary.get_by_role("link", name="Keterangan perbaikan").click()
    expect(page.locator("#f-keterangan_perbaikan")).to_be_focused()
    axe_check(page)
    shot(page, "labels-send-back-390")
    page.goto(f"{live_server.url}/lacak/{number}?lang=en")
    expect(page.locator('[data-reason="send_back_reason"]')).to_contain_text("What needs fixing")
    axe_check(page)
    shot(page, "labels-track-en-390")
