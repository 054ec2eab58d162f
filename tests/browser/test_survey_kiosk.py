"""The counter kiosk's survey and the SKM semester report in a real browser: touch, errors, reset, print."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, at_both_widths
from tests.engine.sla_package import sla_package
from tests.factories import deploy

ANSWERS = {"u1": 4, "u2": 3, "u3": 2, "u4": 4, "u5": 3, "u6": 3, "u7": 4, "u8": 1, "u9": 3}


def test_a_visitor_rates_at_the_kiosk_and_the_manager_prints_the_report(
        page: Page, live_server: LiveServer, axe_check: Callable[..., None], shot: Callable[[Page, str], Path],
        login: Callable[..., None]) -> None:
    deploy(live_server.ctx, sla_package())
    page.goto(f"{live_server.url}/skm/kios")
    expect(page.get_by_role("heading", level=1)).to_have_text("Survei kepuasan masyarakat")
    expect(page.locator("label[for=u4-1]")).to_have_text("Sangat mahal")
    expect(page.locator("label[for=u8-4]")).to_have_text("Dikelola dengan baik")
    at_both_widths(page, "skm-kiosk", axe_check, shot)
    page.get_by_role("button", name="Kirim penilaian").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("li")).to_have_count(14)  # the service, four profile questions, nine elements
    expect(page.locator("#service")).to_have_attribute("aria-invalid", "true")
    at_both_widths(page, "skm-kiosk-errors", axe_check, shot)
    page.get_by_label("Layanan yang Anda terima").select_option("sla_uji")
    for choice in ("gender-l", "age_group-60p", "education-sd", "occupation-lainnya"):
        page.locator(f"label[for={choice}]").click()
    for key, score in ANSWERS.items():
        page.locator(f"label[for={key}-{score}]").click()
    page.get_by_role("button", name="Kirim penilaian").click()
    expect(page.locator("#kiosk-thanks")).to_contain_text("Terima kasih")
    expect(page.locator("#kiosk-form input[type=radio]:checked")).to_have_count(0)  # blank for the next visitor
    expect(page.locator("#service")).to_have_value("")
    axe_check(page)

    login(page, "admin")
    page.goto(f"{live_server.url}/dasbor")
    page.locator("#skm-report-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laporan Survei Kepuasan Masyarakat")
    row = page.locator("#skm-summary tr[data-unit=sla_uji]")
    # One respondent: 4+3+2+4+3+3+4+1+3 = 27, IKM 27/9 = 3.0000, x 25 = 75.00 -> C.
    expect(row).to_contain_text("75.00")
    expect(row).to_contain_text("C — Kurang Baik")
    expect(page.locator("ol[data-weakest=sla_uji] li").first).to_contain_text("U8")
    at_both_widths(page, "skm-report", axe_check, shot)
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("form.no-print")).to_be_hidden()
    shot(page, "skm-report-print")
    page.emulate_media(media="screen")
