"""A complaint in a real browser: filed from a case's tracking page, answered in the agency's inbox, shown publicly.

The SKCK case belongs to the demo applicant; the complaint goes to Polresta's complaints officer
(`polresta_pengaduan`), who answers it from the inbox; the answer then shows on the complaint's
tracking page, on the complained case's tracking page and on SKCK's public list of answered
complaints, without the complainant's name (they asked to stay confidential).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Browser, Page, expect

from engine.directory import service as directory
from engine.directory.actors import actor_for
from tests.browser.conftest import LiveServer
from tests.engine.test_complaints import SKCK
from tests.factories import Driver

ANSWER = "Mohon maaf. Berkas Anda sudah diteliti hari ini; SKCK dapat dibayar di loket atau secara daring."
TITLE = "Berkas SKCK belum diteliti"


def _skck(server: LiveServer) -> tuple[str, str]:
    with server.ctx.sessions() as session:
        warga = actor_for(session, directory.get_user(session, "warga"))
    started = Driver(server.ctx).start("skck", SKCK, warga, channel="daring")
    return started.tracking_number, started.pin


def _track(page: Page, server: LiveServer, number: str, pin: str) -> None:
    page.goto(f"{server.url}/lacak?nomor={number}")
    page.get_by_label("PIN").fill(pin)
    page.get_by_role("button", name="Lacak").click()
    expect(page).to_have_url(f"{server.url}/lacak/{number}")


def test_a_citizen_complains_the_agency_answers_and_the_answer_is_public(
        page: Page, browser: Browser, live_server: LiveServer, login: Callable[..., None],
        axe_check: Callable[..., None], shot: Callable[..., Any]) -> None:
    number, pin = _skck(live_server)
    _track(page, live_server, number, pin)
    page.get_by_role("link", name="Ajukan pengaduan atas permohonan ini").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sampaikan pengaduan")
    expect(page.locator("#complaint-about")).to_contain_text(number)

    axe_check(page)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"complaint-form-{width}")
    # Nothing typed: the errors name the fields, in Indonesian, and nothing is filed.
    page.get_by_role("button", name="Kirim pengaduan").click()
    expect(page.locator("#error-summary")).to_contain_text("Judul pengaduan")
    axe_check(page)
    page.get_by_label("Nama pelapor").fill("Siti Rahmawati")
    page.get_by_label("Email").fill("siti@contoh.id")
    page.get_by_label("Judul pengaduan").fill(TITLE)
    page.get_by_label("Uraian pengaduan").fill("Sudah empat hari kerja berkas SKCK saya belum diteliti tanpa kabar.")
    page.get_by_label("Rahasiakan identitas saya").check()
    shot(page, "complaint-form-errors-390")
    page.get_by_role("button", name="Kirim pengaduan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pengaduan diterima")
    complaint = page.locator("#tracking-number").inner_text()
    assert re.fullmatch(r"MPP-[A-Z0-9-]+", complaint)
    axe_check(page)

    officer = browser.new_page()
    login(officer, "polresta_pengaduan")
    officer.goto(f"{live_server.url}/kotak-tugas")
    row = officer.locator("#task-table tbody tr")
    expect(row).to_have_count(1)
    row.get_by_role("button", name="Ambil").click()
    expect(officer).to_have_url(re.compile(r"/tugas/[0-9a-f-]{36}$"))
    expect(officer.locator("body")).not_to_contain_text("Siti Rahmawati")  # confidential: the agency never sees it
    axe_check(officer)
    shot(officer, "complaint-task-1280")
    officer.get_by_label("Jawab langsung", exact=True).check()
    officer.get_by_label("Tanggapan kepada pelapor (dipublikasikan)").fill(ANSWER)
    officer.get_by_label("Catatan internal (tidak dipublikasikan)").fill("Petugas intelkam sedang cuti.")
    officer.get_by_role("button", name="Selesaikan tugas").click()
    expect(officer.get_by_role("status")).to_contain_text("Tugas selesai")

    page.goto(f"{live_server.url}/lacak/{complaint}")
    expect(page.locator("#complaint-answer")).to_contain_text(ANSWER)
    axe_check(page)
    page.goto(f"{live_server.url}/lacak/{number}")
    expect(page.locator("#complaints-on-case")).to_contain_text(ANSWER)
    page.goto(f"{live_server.url}/layanan/skck/pengaduan-ditanggapi")
    answered = page.locator("#answered-complaints")
    expect(answered).to_contain_text(TITLE)
    expect(answered).to_contain_text(ANSWER)
    expect(page.locator("main")).not_to_contain_text("Siti Rahmawati")
    expect(page.locator("main")).not_to_contain_text("Petugas intelkam sedang cuti.")
    axe_check(page)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"complaints-answered-{width}")
    page.goto(f"{live_server.url}/lacak/{complaint}")
    shot(page, "complaint-track-390")
