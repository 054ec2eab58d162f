"""The counter's case search finds a case by the whole NIK (sealed at rest, found through its lookup hash), and says
on the page that part of a NIK finds nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.directory.actors import actor_for
from engine.models import User
from tests.browser.conftest import LiveServer, at_both_widths
from tests.factories import Driver, pbg_application

NIK = "3471066677788899"


def test_the_counter_finds_a_case_by_the_whole_nik(page: Page, live_server: LiveServer,
                                                   login: Callable[[Page, str], None],
                                                   axe_check: Callable[..., None],
                                                   shot: Callable[[Page, str], Path]) -> None:
    ctx = live_server.ctx
    with ctx.sessions() as session:
        applicant = actor_for(session, session.scalars(select(User).where(User.username == "warga")).one())
    case = Driver(ctx).start("pbg", pbg_application(nik=NIK, nama_pemohon="Larasati Wening"), applicant,
                             channel="daring")
    login(page, "dpmptsp_front_office")
    page.goto(f"{live_server.url}/kasus")
    expect(page.locator("#cari-help")).to_contain_text("NIK harus diketik lengkap (16 angka)")
    page.get_by_label("Nomor pelacakan, NIK (16 angka), atau nama pemohon").fill(NIK)
    page.get_by_label("Nomor pelacakan, NIK (16 angka), atau nama pemohon").press("Enter")
    expect(page.locator(f'a[href="/kasus/{case.id}"]').first).to_be_visible()
    expect(page.locator("table")).to_contain_text("3471********8899")  # opened from its seal, then masked
    at_both_widths(page, "nik-search-found", axe_check, shot)
    page.goto(f"{live_server.url}/kasus?cari={NIK[:10]}")
    expect(page.locator("main")).to_contain_text("Tidak ada kasus")
    at_both_widths(page, "nik-search-part", axe_check, shot)
