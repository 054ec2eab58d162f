"""An integrated application of two services in a real browser: choose, one form, uploads, combined tracking."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, accept_privacy_notice

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _pdf(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(PDF)
    return str(path)


def test_an_applicant_files_two_services_in_one_application_and_tracks_both(
        page: Page, live_server: LiveServer, login: Callable[[Page, str], None], axe_check: Callable[..., None],
        shot: Callable[[Page, str], object], tmp_path: Path) -> None:
    login(page, "warga")
    page.goto(live_server.url + "/")
    page.locator("#integrated-link").click()
    page.get_by_label("Surat Keterangan Catatan Kepolisian (SKCK)").check()
    page.get_by_label("Sambungan Baru Air Minum PDAM Tirtamarta").check()
    axe_check(page)
    page.get_by_role("button", name="Lanjut ke formulir").click()
    expect(page.locator("#bundle-services li")).to_have_count(2)
    # Shared data once, each service's own fields in its own section.
    expect(page.locator("#part-shared #f-nik")).to_have_count(1)
    expect(page.locator("input[name$='__nik']")).to_have_count(0)
    page.locator("#f-nik").fill("3471010101800001")
    page.locator("#f-telepon").fill("081234567890")
    page.locator("#f-doc__ktp").set_input_files(_pdf(tmp_path, "ktp"))
    page.locator("#f-doc__kk").set_input_files(_pdf(tmp_path, "kk"))
    skck = page.locator("#part-skck")
    skck.get_by_label("Nama lengkap").fill("Sari Wulandari")
    skck.get_by_label("Tempat lahir").fill("Yogyakarta")
    skck.get_by_label("Tanggal lahir").fill("1990-04-01")
    skck.locator("#f-skck__jenis_kelamin").get_by_label("Perempuan").check()
    skck.get_by_label("Alamat domisili").fill("Jl. Kaliurang 5")
    skck.locator("#f-skck__keperluan").select_option("melamar_pekerjaan")
    skck.locator("#f-doc__akta_atau_ijazah").set_input_files(_pdf(tmp_path, "ijazah"))
    pdam = page.locator("#part-pdam_sambungan")
    pdam.get_by_label("Nama pemohon").fill("Sari Wulandari")
    pdam.get_by_label("Nomor Kartu Keluarga").fill("3471010101800002")
    pdam.get_by_label("Alamat lokasi pemasangan").fill("Jl. Kaliurang 5")
    pdam.locator("#f-pdam_sambungan__kemantren").select_option("jetis")
    pdam.locator("#f-pdam_sambungan__kelompok_pelanggan").get_by_label("Rumah tangga").check()
    pdam.locator("#f-pdam_sambungan__diameter_pipa").select_option("1/2")
    pdam.locator("#f-doc__denah_lokasi").set_input_files(_pdf(tmp_path, "denah"))
    accept_privacy_notice(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    axe_check(page)
    shot(page, "integrated-form-1280")
    # The photo for the SKCK is missing: refused, the requirement named, nothing filed, uploads kept.
    page.get_by_role("button", name="Kirim permohonan terpadu").click()
    expect(page.locator("#error-summary")).to_contain_text("Pas foto 4x6")
    expect(page.locator("#f-doc__pas_foto-error")).to_contain_text("Dokumen persyaratan wajib diunggah")
    expect(page.locator("input[name='doc__ktp__keep']")).to_be_checked()
    expect(page.locator("#part-skck #f-skck__nama_lengkap")).to_have_value("Sari Wulandari")
    axe_check(page)
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "integrated-refused-390")
    page.locator("#f-doc__pas_foto").set_input_files(_pdf(tmp_path, "foto"))
    page.get_by_role("button", name="Kirim permohonan terpadu").click()
    expect(page.get_by_role("heading", name="Permohonan terpadu diterima")).to_be_visible()
    number = page.locator("#tracking-number").inner_text()
    expect(page.locator("#bundle-cases li")).to_have_count(2)
    axe_check(page)
    page.get_by_role("button", name="Lihat status permohonan").click()
    rows = page.locator("#bundle-parts tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("SKCK")
    expect(rows.nth(1)).to_contain_text("PDAM")
    expect(page.get_by_text(number).first).to_be_visible()
    axe_check(page)
    shot(page, "integrated-tracking-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "integrated-tracking-1280")


def test_the_officer_ticks_the_requirements_of_the_skck_from_the_task(
        browser: Browser, live_server: LiveServer, login: Callable[[Page, str], None],
        axe_check: Callable[..., None], shot: Callable[[Page, str], object]) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(page, "polresta_identifikasi")
    page.goto(live_server.url + "/kotak-tugas")
    task = page.get_by_role("link", name="Perekaman sidik jari").first
    assert task.count() == 1, "the SKCK fingerprint task is not in the inbox:\n" + page.inner_text("main")[:3000]
    task.click()
    page.locator("#checklist-link").click()
    ktp = page.locator("#req-ktp")
    expect(ktp.get_by_role("link", name="ktp.pdf")).to_be_visible()
    expect(page.locator("#req-kartu_sidik_jari")).to_contain_text("tidak diunggah")
    ktp.get_by_label("Sesuai", exact=True).check()
    photo = page.locator("#req-pas_foto")
    photo.get_by_label("Tidak sesuai").check()
    photo.get_by_label("Catatan").fill("Latar belakang biru, harus merah")
    page.get_by_role("button", name="Simpan hasil pemeriksaan").click()
    expect(page.locator("#checklist-saved")).to_be_visible()
    expect(photo.get_by_label("Tidak sesuai")).to_be_checked()
    expect(photo).to_contain_text("Terakhir diperiksa oleh polresta_identifikasi")
    axe_check(page)
    shot(page, "integrated-checklist-1280")
    page.get_by_role("link", name="Tugas", exact=True).click()
    expect(page.locator("#checklist-link")).to_be_visible()
