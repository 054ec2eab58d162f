"""The working-calendar page in a real browser: an admin adds a holiday and imports the official list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.models import CalendarHoliday
from tests.browser.conftest import LiveServer

OFFICIAL = """[[holiday]]
date = 2027-01-01
name = "Tahun Baru 2027 Masehi"
kind = "national"

[[holiday]]
date = 2027-03-09
name = "Cuti Bersama Idul Fitri 1448 Hijriah"
kind = "cuti_bersama"
"""


def test_an_admin_adds_a_holiday_and_imports_the_official_list(
        page: Page, live_server: LiveServer, login: Callable[..., None], axe_check: Callable[..., None],
        shot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, "admin")
    page.goto(f"{live_server.url}/dasbor")
    page.get_by_role("link", name="Kalender kerja (hari libur dan jam layanan)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kalender kerja")
    page.get_by_role("navigation", name="Pilih tahun").get_by_role("link", name="2027").click()
    expect(page.locator("#provisional-badge")).to_have_text("sementara")
    axe_check(page)
    shot(page, "calendar-1280")

    # A regional holiday on a Friday.
    form = page.locator("#holiday-form")
    form.get_by_label("Tanggal").fill("2026-11-13")
    form.get_by_label("Nama").fill("Hari Jadi Kota")
    form.get_by_role("button", name="Simpan hari libur").click()
    expect(page.locator(".flash")).to_have_text("Hari libur disimpan.")
    expect(page.locator("#libur-2026-11-13")).to_contain_text("Hari Jadi Kota")

    # A file with a bad line is refused line by line; nothing changes.
    bad = tmp_path / "skb-salah.csv"
    bad.write_text("2027-01-01,Tahun Baru 2027 Masehi,national\n2027-13-01,Bulan ketiga belas,national\n")
    page.locator("#import-form").get_by_label("Berkas (.toml atau .csv)").set_input_files(str(bad))
    page.locator("#import-form").get_by_role("button", name="Impor").click()
    expect(page.locator("#import-errors")).to_contain_text("Baris 2: tanggal '2027-13-01' bukan tanggal")
    axe_check(page)

    # The official list replaces the provisional 2027.
    good = tmp_path / "skb-2027.toml"
    good.write_text(OFFICIAL)
    page.locator("#import-form").get_by_label("Berkas (.toml atau .csv)").set_input_files(str(good))
    page.locator("#import-form").get_by_role("button", name="Impor").click()
    expect(page.locator(".flash")).to_contain_text("Daftar hari libur diimpor")
    expect(page.locator("#provisional-badge")).to_have_count(0)
    expect(page.locator("#holiday-table tbody tr")).to_have_count(2)
    axe_check(page)
    shot(page, "calendar-imported-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "calendar-390")
    with live_server.ctx.sessions() as session:
        days = set(session.scalars(select(CalendarHoliday.day).where(CalendarHoliday.day >= date(2027, 1, 1))))
        assert days == {date(2027, 1, 1), date(2027, 3, 9)}
        assert session.get(CalendarHoliday, date(2026, 11, 13)) is not None
