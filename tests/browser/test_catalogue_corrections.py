"""Corrected catalogue rules in a real browser: the marriage notice asks for the certificates and the
dispensations, and the PBG expert panel classifies the building or refuses with a reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, pbg_case_to
from tests.factories import Driver


def _both_widths(page: Page, shot: Callable[[Page, str], Any], name: str) -> None:
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_marriage_notice_asks_for_certificates_and_dispensations(
        page: Page, live_server: LiveServer, login: Callable[[Page, str], None], axe_check: Callable[..., None],
        shot: Callable[[Page, str], Any]) -> None:
    login(page, "warga")
    page.goto(f"{live_server.url}/layanan/nikah/ajukan")
    for label in ("Nomor sertifikat bimbingan perkawinan (Bimwin)", "Nomor surat keterangan sehat calon pengantin",
                  "Ada penetapan dispensasi kawin dari Pengadilan Agama"):
        expect(page.get_by_label(label)).to_be_visible()
    expect(page.get_by_text("belum berusia 19 tahun pada hari akad (UU 16/2019)")).to_be_visible()
    axe_check(page)
    _both_widths(page, shot, "nikah-ajukan")


def test_the_expert_panel_classifies_or_refuses(
        page: Page, live_server: LiveServer, login: Callable[[Page, str], None], axe_check: Callable[..., None],
        shot: Callable[[Page, str], Any]) -> None:
    case_id = pbg_case_to(live_server, "Task_tpa")
    login(page, "pupr_tpa")
    page.goto(f"{live_server.url}/kotak-tugas")
    page.locator("#task-table tbody tr").get_by_role("button", name="Ambil").click()
    expect(page).to_have_url(re.compile(r"/tugas/[0-9a-f-]{36}$"))
    expect(page.get_by_label("Kompleksitas")).to_be_visible()
    expect(page.get_by_label("Zonasi gempa")).to_be_visible()
    axe_check(page)
    _both_widths(page, shot, "pbg-tpa")
    page.get_by_label("Ditolak", exact=True).check()
    page.get_by_label("Alasan penolakan").fill("Di sempadan Sungai Code: standar teknis tidak terpenuhi")
    page.get_by_role("button", name="Selesaikan tugas").click()
    expect(page.get_by_role("status")).to_contain_text("Tugas selesai")
    row = Driver(live_server.ctx).case(case_id)
    assert (row.status, row.outcome) == ("completed", "Permohonan ditolak TPA")
