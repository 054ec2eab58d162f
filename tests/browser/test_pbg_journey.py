"""The PBG building approval, end to end in a real browser: apply, every lane's officer, track.

One journey, in order: the applicant applies with a document (and first gets a field error),
each officer claims and completes their task through its form (one refused input shows its
field error and keeps what was typed), the applicant pays, and the public tracking page shows
the finished timeline. axe-core checks each main page on the way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, accept_privacy_notice
from tests.factories import CLASSIFIED

EMBEDDED_WORKER = True  # the signed PBG document is issued by a job once the case completes

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
APPLICATION = {"nama_pemohon": "Budi Santoso", "nik": "3471010101800001", "email": "budi@example.id",
               "telepon": "081234567890", "alamat_bangunan": "Jl. Malioboro 12, Sosromenduran, Gedongtengen",
               "fungsi_bangunan": "hunian", "luas_bangunan": "120.5", "jumlah_lantai": "2",
               "consultant": "konsultan_griya"}


def set_field(page: Page, name: str, value: Any) -> None:
    """Fill one generated form field by its schema name, whatever widget it was drawn as."""
    radios = page.locator(f"input[type=radio][name='{name}']")
    if radios.count():
        page.locator(f"input[type=radio][name='{name}'][value='{value}']").check()
        return
    box = page.locator(f"#f-{name}")
    kind = box.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
    if kind.startswith("select"):
        box.select_option(str(value))
    elif kind == "input:checkbox":
        box.set_checked(bool(value))
    else:
        box.fill(str(value))


def officer_completes(browser: Browser, server: LiveServer, login: Callable[..., None], axe: Callable[..., None],
                      username: str, values: dict[str, Any], *, check_a11y: bool = False) -> Page:
    """Log an officer in a fresh browser, claim their one task from the inbox and complete it."""
    page = browser.new_page()
    login(page, username)
    page.goto(f"{server.url}/kotak-tugas")
    expect(page.locator("#task-table tbody tr")).to_have_count(1)
    if check_a11y:
        axe(page)
    page.locator("#task-table tbody tr").get_by_role("button", name="Ambil").click()
    expect(page).to_have_url(re.compile(r"/tugas/[0-9a-f-]{36}$"))
    for name, value in values.items():
        set_field(page, name, value)
    page.get_by_role("button", name="Selesaikan tugas").click()
    expect(page.get_by_role("status")).to_contain_text("Tugas selesai")
    return page


@pytest.fixture(scope="module")
def journey() -> dict[str, str]:
    """What one step of the journey leaves for the next (tracking number and PIN)."""
    return {}


def test_applicant_applies_with_a_document(page: Page, live_server: LiveServer, login: Callable[..., None],
                                           axe_check: Callable[..., None], shot: Callable[..., Any],
                                           journey: dict[str, str]) -> None:
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Katalog layanan")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Persetujuan Bangunan Gedung (PBG)").click()
    expect(page.get_by_role("heading", name="Standar pelayanan")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("28 hari kerja")
    axe_check(page)
    login(page, "warga")
    page.goto(f"{live_server.url}/layanan/pbg/ajukan")
    for name, value in {**APPLICATION, "nik": "347101010180"}.items():
        set_field(page, name, value)
    page.locator("#f-dokumen").set_input_files([{"name": "imb-lama.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    # The requirements PBG needs at filing: the ID card and the land proof.
    page.locator("#f-doc__ktp").set_input_files([{"name": "ktp.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.locator("#f-doc__bukti_tanah").set_input_files([{"name": "sertifikat.pdf", "mimeType": "application/pdf",
                                                          "buffer": PDF}])
    accept_privacy_notice(page)
    page.get_by_role("button", name="Kirim permohonan").click()
    # The short NIK is refused beside its field; everything typed (and the uploaded file) is kept.
    expect(page.locator("#f-nik-error")).to_be_visible()
    expect(page.locator("#f-nik")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-nama_pemohon")).to_have_value("Budi Santoso")
    expect(page.locator("input[name=dokumen__keep]")).to_be_checked()
    expect(page.locator("input[name=doc__ktp__keep]")).to_be_checked()
    expect(page.locator(".kept-files").first).to_contain_text("imb-lama.pdf")
    axe_check(page)
    shot(page, "apply-with-error")
    set_field(page, "nik", APPLICATION["nik"])
    page.get_by_role("button", name="Kirim permohonan").click()
    expect(page.get_by_role("heading", name="Permohonan diterima")).to_be_visible()
    number = page.locator("#tracking-number").inner_text().strip()
    pin = page.locator("#tracking-pin").inner_text().strip()
    assert re.fullmatch(r"MPP-[0-9A-Z]{4}-[0-9A-Z]{4}", number)
    assert re.fullmatch(r"\d{6}", pin)
    axe_check(page)
    journey.update(number=number, pin=pin)


def test_officers_of_each_lane_complete_their_tasks(browser: Browser, live_server: LiveServer,
                                                    login: Callable[..., None], axe_check: Callable[..., None],
                                                    shot: Callable[..., Any], journey: dict[str, str]) -> None:
    assert journey, "the application step must run first"
    officer_completes(browser, live_server, login, axe_check, "dpmptsp_front_office", {"kelengkapan": "lengkap"},
                      check_a11y=True)

    # The consultant forgets a required drawing: the field error shows and the uploaded ones stay.
    page = browser.new_page()
    login(page, "konsultan_griya_perencana")
    page.goto(f"{live_server.url}/kotak-tugas")
    page.locator("#task-table tbody tr a[href^='/tugas/']").first.click()
    expect(page.locator("#case-files")).to_contain_text("ktp.pdf")
    expect(page.locator("#case-diagram[data-ready='1']")).to_be_attached()
    axe_check(page)
    shot(page, "task-page")
    for name in ("gambar_arsitektur", "gambar_mep"):
        page.locator(f"#f-{name}").set_input_files([{"name": f"{name}-v1.pdf", "mimeType": "application/pdf",
                                                     "buffer": PDF}])
    for name, value in {"nama_penanggung_jawab": "Ir. Sri Wahyuni", "nomor_sertifikat_keahlian": "SKA-1-2345"}.items():
        set_field(page, name, value)
    page.get_by_role("button", name="Selesaikan tugas").click()
    expect(page.locator("#f-gambar_struktur-error")).to_be_visible()
    expect(page.locator("input[name=gambar_arsitektur__keep]")).to_be_checked()
    expect(page.locator("#f-nama_penanggung_jawab")).to_have_value("Ir. Sri Wahyuni")
    axe_check(page)
    page.locator("#f-gambar_struktur").set_input_files([{"name": "struktur-v1.pdf", "mimeType": "application/pdf",
                                                        "buffer": PDF}])
    page.get_by_role("button", name="Selesaikan tugas").click()
    expect(page.get_by_role("status")).to_contain_text(journey["number"])

    officer_completes(browser, live_server, login, axe_check, "pupr_tpa", {
        "hasil_tpa": "disetujui", "nomor_berita_acara": "BA/TPA/2026/017", "tanggal_berita_acara": "2026-03-10",
        **CLASSIFIED})  # the building's classification for the PP 16/2021 retribution formula
    officer_completes(browser, live_server, login, axe_check, "pupr_teknis", {
        "nomor_sppst": "SPPST/2026/088", "tanggal_sppst": "2026-03-11", "retribusi_dikonfirmasi": True})
    officer_completes(browser, live_server, login, axe_check, "dpmptsp_back_office", {
        "nomor_skrd": "SKRD/2026/311", "tanggal_skrd": "2026-03-12"})

    # Payment is the applicant's task: it waits on their "my applications" page.
    page = browser.new_page()
    login(page, "warga")
    page.goto(f"{live_server.url}/permohonan-saya")
    page.locator("#my-tasks a").first.click()
    for name, value in {"nomor_ssrd": "SSRD-99812", "bank_pembayaran": "Bank BPD DIY",
                        "tanggal_pembayaran": "2026-03-13"}.items():
        set_field(page, name, value)
    page.locator("#f-bukti_pembayaran").set_input_files([{"name": "bukti-setor.pdf", "mimeType": "application/pdf",
                                                          "buffer": PDF}])
    axe_check(page)
    page.get_by_role("button", name="Kirim").click()
    expect(page).to_have_url(re.compile(r"/lacak/MPP-"))
    expect(page.locator("#own-files")).to_contain_text("bukti-setor.pdf")  # the applicant's uploads, listed

    officer_completes(browser, live_server, login, axe_check, "dpmptsp_kasir", {"pembayaran_valid": True})
    # The PBG number is the platform's (service.toml number_format): the head of office types only the date.
    officer_completes(browser, live_server, login, axe_check, "dpmptsp_kepala", {"tanggal_pbg": "2026-03-16"})


def test_tracking_page_shows_the_finished_timeline(page: Page, live_server: LiveServer,
                                                   axe_check: Callable[..., None], shot: Callable[..., Any],
                                                   journey: dict[str, str]) -> None:
    assert journey, "the application step must run first"
    page.goto(f"{live_server.url}/lacak")
    axe_check(page)
    page.get_by_label("Nomor lacak").fill(journey["number"])
    page.get_by_label("PIN").fill("000000" if journey["pin"] != "000000" else "111111")
    page.get_by_role("button", name="Lacak").click()
    expect(page.get_by_role("alert")).to_contain_text("tidak cocok")
    page.get_by_label("PIN").fill(journey["pin"])
    page.get_by_role("button", name="Lacak").click()
    expect(page.locator("#case-status")).to_have_text("Selesai")
    timeline = page.locator("#timeline li")
    expect(timeline.first).to_contain_text("diterima")
    expect(timeline.last).to_contain_text("PBG terbit")
    # The signed PBG document: downloadable here, and its QR's verification page says authentic.
    for _attempt in range(60):  # the worker issues it within moments of the last signature
        if page.locator("#issued-documents").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("#issued-documents")).to_contain_text(re.compile(r"SK-PBG-3471-\d{8}-\d{3}"))
    axe_check(page)
    shot(page, "tracking-finished")
    with page.expect_download() as download:
        page.get_by_role("link", name="Unduh PDF").click()
    assert download.value.path().read_bytes().startswith(b"%PDF")
    page.get_by_role("link", name="Halaman verifikasi").click()
    expect(page.locator("#verify-status")).to_have_attribute("data-status", "authentic")
    axe_check(page)
    page.goto(f"{live_server.url}/lacak/{journey['number']}?lang=en")
    expect(page.locator("#case-status")).to_have_text("Completed")
