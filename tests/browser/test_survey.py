"""The satisfaction survey in a real browser: track with number and PIN, rate nine elements by keyboard, once."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from engine.cases.service import StartedCase
from tests.browser.conftest import LiveServer
from tests.engine.sla_package import sla_package
from tests.factories import Driver, deploy, make_user


def _finished_case(server: LiveServer) -> StartedCase:
    deploy(server.ctx, sla_package())
    d = Driver(server.ctx)
    case = d.start("sla_uji", {"perihal": "Surat keterangan"}, make_user(server.ctx, "pemohon_survei"))
    d.complete(case.id, "Task_terima", make_user(server.ctx, "loket_survei", "dinas.loket"), {})
    d.complete(case.id, "Task_verifikasi", make_user(server.ctx, "verif_survei", "teknis.verifikator"), {})
    return case


def test_the_applicant_rates_a_finished_service_once(page: Page, live_server: LiveServer,
                                                     axe_check: Callable[..., None],
                                                     login: Callable[..., None]) -> None:
    case = _finished_case(live_server)
    page.goto(f"{live_server.url}/survei/{case.tracking_number}")
    expect(page).to_have_url(f"{live_server.url}/lacak?nomor={case.tracking_number}")  # PIN first
    page.get_by_label("Nomor lacak").fill(case.tracking_number)
    page.get_by_label("PIN").fill(case.pin)
    page.get_by_role("button", name="Lacak").click()
    page.locator("#survey-link a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Survei kepuasan masyarakat")
    axe_check(page)
    page.locator("#u1-4").check()
    page.get_by_role("button", name="Kirim penilaian").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("li")).to_have_count(12)  # the four profile questions and u2..u9; u1 is kept
    expect(page.locator("#u1-4")).to_be_checked()
    expect(page.locator("#u2")).to_have_attribute("aria-invalid", "true")
    axe_check(page)
    # Keyboard only: Tab into each group, arrow keys move the choice, as in any radio group.
    for key in ("u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"):
        page.locator(f"#{key}-1").focus()
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        expect(page.locator(f"#{key}-3")).to_be_checked()
    for choice in ("gender-p", "age_group-30_39", "education-sma", "occupation-x"):
        page.locator(f"label[for={choice}]").click()
    page.get_by_label("Saran dan masukan (tidak wajib)").fill("Petugas ramah, antrean singkat.")
    page.get_by_role("button", name="Kirim penilaian").click()
    expect(page.locator("#survey-thanks")).to_contain_text("Terima kasih")
    page.goto(f"{live_server.url}/survei/{case.tracking_number}")
    expect(page.locator("#survey-answered")).to_be_visible()
    expect(page.locator("#survey-form")).to_have_count(0)
    axe_check(page)
    # The dashboard counts it: u1 = 4, the others 3: (4 + 8 x 3) / 9 x 25 = 77.78, grade B.
    login(page, "admin")
    page.goto(f"{live_server.url}/dasbor?layanan=sla_uji")
    row = page.locator("#skm-table tr[data-skm=sla_uji]")
    expect(row).to_contain_text("77.78")
    expect(row).to_contain_text("B — Baik")
