"""Priority service and jemput bola in a real browser: seen in the catalogue, asked for on the apply form, served first.

Each page is checked with axe-core and photographed at 1280 px and 390 px wide.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, accept_privacy_notice, at_both_widths
from tests.factories import Driver, make_user

AKTA = {"nama_bayi": "Bagus Pratama", "tanggal_lahir": "2026-02-20", "tempat_lahir": "Yogyakarta",
        "jenis_kelamin": "laki_laki", "nik_ayah": "3471010101900001", "nik_ibu": "3471014101920002",
        "nomor_kk": "3471010202020003"}



def test_a_disabled_applicant_asks_for_jemput_bola_and_is_served_first(
    page: Page, live_server: LiveServer, login: Callable[..., None], axe_check: Callable[..., None],
    shot: Callable[[Page, str], Path],
) -> None:
    # A case filed earlier, without priority: by due date alone it would come first.
    Driver(live_server.ctx).start("akta_kelahiran", {**AKTA, "nama_bayi": "Citra Lestari"},
                                  make_user(live_server.ctx, "pemohon_awal"), channel="daring")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url)
    card = page.locator("article.service-card", has=page.get_by_role("link", name="Akta Kelahiran"))
    expect(card).to_contain_text("Jemput bola untuk penyandang disabilitas, lansia dan orang sakit")
    samsat = page.locator("article.service-card", has=page.get_by_role("link", name="Samsat", exact=False))
    expect(samsat).to_contain_text("Drive-thru")
    at_both_widths(page, "priority-catalogue", axe_check, shot)
    card.get_by_role("link", name="Akta Kelahiran").click()
    expect(page.locator("#service-options")).to_contain_text("Jemput bola")
    at_both_widths(page, "priority-service", axe_check, shot)

    login(page, "warga")
    page.goto(f"{live_server.url}/layanan/akta_kelahiran/ajukan")
    for name in ("nama_bayi", "tanggal_lahir", "tempat_lahir", "nik_ayah", "nik_ibu", "nomor_kk"):
        page.locator(f"#f-{name}").fill(AKTA[name])
    page.get_by_label("Laki-laki").check()
    page.get_by_label("Penyandang disabilitas", exact=True).check()
    page.get_by_label("Saya meminta layanan jemput bola").check()
    page.get_by_label("Alasan").select_option("disabilitas")
    page.get_by_label("Alamat yang dikunjungi petugas").fill("Jl. Kaliurang 5, Sleman")
    # The phone is left out: the form comes back with the error named and everything kept.
    page.locator("#channel-tatap_muka").check()
    accept_privacy_notice(page)
    page.get_by_role("button", name="Kirim permohonan").click()
    expect(page.locator("#error-summary")).to_contain_text("Nomor telepon")
    expect(page.get_by_label("Penyandang disabilitas", exact=True)).to_be_checked()
    at_both_widths(page, "priority-apply-errors", axe_check, shot)
    page.get_by_label("Nomor telepon untuk menyepakati jadwal kunjungan").fill("0812 3456 7890")
    page.get_by_role("button", name="Kirim permohonan").click()
    number = page.locator("#tracking-number").inner_text().strip()

    login(page, "disdukcapil_petugas")
    page.goto(f"{live_server.url}/kotak-tugas")
    first = page.locator("#task-table tbody tr").first
    expect(first).to_contain_text(number)
    expect(first).to_contain_text("Prioritas: Penyandang disabilitas")
    expect(first).to_contain_text("Jemput bola")
    expect(page.locator("#task-table tbody tr")).to_have_count(2)
    at_both_widths(page, "priority-inbox", axe_check, shot)
    page.get_by_role("link", name="Permintaan jemput bola").click()
    expect(page.locator("#task-table tbody tr")).to_have_count(1)
    page.locator("#task-table tbody tr").first.get_by_role("link", name=number).click()
    expect(page.locator("#case-needs")).to_contain_text("Jl. Kaliurang 5, Sleman")
    expect(page.locator("#case-needs")).to_contain_text("0812 3456 7890")
    at_both_widths(page, "priority-case", axe_check, shot)
