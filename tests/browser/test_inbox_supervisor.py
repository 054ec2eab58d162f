"""Daily work in a real browser: the counter finds a case by NIK, the inbox filters and sorts, a supervisor reassigns.

Each page is checked with axe-core and photographed at 1280 px and 390 px wide.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, at_both_widths
from tests.factories import Driver, make_user, pbg_application

NIK = "3471055566667777"


def _seed(server: LiveServer) -> str:
    """File two online PBG applications and make a second front-office officer; return the first's tracking number."""
    d = Driver(server.ctx)
    applicant = make_user(server.ctx, "pemohon_harian")
    first = d.start("pbg", pbg_application(nama_pemohon="Rina Wulandari", nik=NIK), applicant, channel="daring")
    d.start("pbg", pbg_application(nama_pemohon="Agus Salim"), applicant, channel="daring")
    make_user(server.ctx, "petugas_cadangan", "dpmptsp.front_office")
    return first.tracking_number



def test_counter_search_inbox_filters_and_supervisor_reassigns(
    page: Page, live_server: LiveServer, login: Callable[..., None], axe_check: Callable[..., None],
    shot: Callable[[Page, str], Path],
) -> None:
    number = _seed(live_server)
    page.set_viewport_size({"width": 1280, "height": 900})
    # The front office finds the case of the person at the counter by their NIK, with the keyboard only.
    login(page, "dpmptsp_front_office")
    page.goto(f"{live_server.url}/kasus")
    search = page.get_by_label("Nomor pelacakan, NIK (16 angka), atau nama pemohon")
    expect(search).to_be_focused()
    search.fill(NIK)
    search.press("Enter")
    hits = page.locator("#case-hits tbody tr")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("R*** W******")  # listed masked (forms.personal), found by the full NIK
    expect(hits.first).to_contain_text("3471********7777")
    expect(hits.first).not_to_contain_text("Rina Wulandari")
    expect(hits.first).to_contain_text(number)
    at_both_widths(page, "case-search", axe_check, shot)
    hits.first.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)

    # The inbox: search and filters narrow it, a column heading sorts it, the officer claims the task.
    page.goto(f"{live_server.url}/kotak-tugas")
    rows = page.locator("#task-table tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Kanal").select_option("tatap_muka")
    page.get_by_role("button", name="Terapkan").click()
    expect(page.locator("#task-table")).to_have_count(0)
    expect(page.locator("#task-count")).to_contain_text("0 tugas")
    page.get_by_label("Kanal").select_option("daring")
    page.get_by_role("button", name="Terapkan").click()
    expect(rows).to_have_count(2)
    page.get_by_role("link", name="Pemohon").click()
    expect(page.locator("#task-table th[aria-sort=ascending]")).to_contain_text("Pemohon")
    expect(rows.first).to_contain_text("A*** S****")
    page.get_by_role("link", name="Pemohon").click()
    expect(page.locator("#task-table th[aria-sort=descending]")).to_contain_text("Pemohon")
    expect(rows.first).to_contain_text("R*** W******")
    page.get_by_label("Cari nomor pelacakan, NIK, atau nama pemohon").fill("rina")
    page.get_by_role("button", name="Terapkan").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Persetujuan Bangunan Gedung (PBG)")
    expect(rows.first.locator("td").nth(4)).to_have_text("Daring")
    rows.first.get_by_role("button", name=f"Ambil tugas: Pemeriksaan kelengkapan berkas {number}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pemeriksaan kelengkapan berkas")
    page.goto(f"{live_server.url}/kotak-tugas?cari=rina&kanal=daring")
    expect(rows.first).to_contain_text("Anda")
    at_both_widths(page, "inbox-table", axe_check, shot)
    page.context.clear_cookies()

    # The supervisor sees the workload, opens the claimed task and gives it to the other officer.
    login(page, "dpmptsp_supervisor")
    page.goto(f"{live_server.url}/pengawasan")
    expect(page.locator("#workload tr[data-officer=dpmptsp_front_office] td").first).to_have_text("1")
    at_both_widths(page, "supervision", axe_check, shot)
    page.locator(f"#task-table tr[data-tracking='{number}']").get_by_role("button", name="Alihkan").click()
    expect(page.locator("#holder")).to_contain_text("dpmptsp_front_office")
    page.get_by_label("Petugas yang memegang peran").select_option("petugas_cadangan")
    page.get_by_label("Alasan (dicatat di riwayat kasus dan log audit)").fill("Petugas loket sedang cuti")
    at_both_widths(page, "supervision-task", axe_check, shot)
    page.get_by_role("button", name="Alihkan").click()
    expect(page.get_by_role("status").first).to_contain_text("Tugas dialihkan")
    expect(page.locator("#workload tr[data-officer=petugas_cadangan] td").first).to_have_text("1")
    expect(page.locator("#workload tr[data-officer=dpmptsp_front_office] td").first).to_have_text("0")
    page.locator(f"#task-table tr[data-tracking='{number}'] td").first.get_by_role("link").click()
    expect(page.locator("#case-history")).to_contain_text("Dialihkan")
    expect(page.locator("#case-history")).to_contain_text("Petugas loket sedang cuti")
    page.context.clear_cookies()
