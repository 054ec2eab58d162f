"""Priority service and jemput bola on the integrated application form, in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, accept_privacy_notice


def test_the_integrated_form_asks_once_for_priority_and_a_visit(
        page: Page, live_server: LiveServer, login: Callable[[Page, str], None], axe_check: Callable[..., None],
        shot: Callable[[Page, str], Path]) -> None:
    login(page, "warga")
    page.goto(live_server.url + "/terpadu?layanan=skck&layanan=pdam_sambungan")
    box = page.locator("#f-outreach-box")
    expect(box).to_contain_text("Surat Keterangan Catatan Kepolisian (SKCK)")
    expect(box).to_contain_text("Sambungan Baru Air Minum PDAM Tirtamarta")
    expect(page.locator("input[name='priority']")).to_have_count(4)
    page.get_by_label("Lansia (60 tahun ke atas)").check()
    page.get_by_label("Saya meminta layanan jemput bola").check()
    page.locator("#f-outreach_contact").fill("0812 3456 7890")
    accept_privacy_notice(page)
    page.get_by_role("button", name="Kirim permohonan terpadu").click()
    expect(page.locator("#f-outreach_address-error")).to_contain_text("Tulis alamat yang akan dikunjungi petugas.")
    expect(page.locator("#error-summary")).to_contain_text("Alamat kunjungan")
    expect(page.locator("#priority-lansia")).to_be_checked()
    expect(page.locator("#f-outreach_contact")).to_have_value("0812 3456 7890")
    for name, (width, height) in (("1280", (1280, 900)), ("390", (390, 844))):
        page.set_viewport_size({"width": width, "height": height})
        axe_check(page)
        page.locator("#f-priority").scroll_into_view_if_needed()
        shot(page, f"integrated-needs-{name}")
