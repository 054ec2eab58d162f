"""Corrected catalogue rules in a real browser: the marriage notice asks for the certificates and the
dispensations, and the PBG expert panel classifies the building or refuses with a reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.directory.actors import actor_for
from engine.models import User
from tests.browser.conftest import LiveServer
from tests.factories import DRAWINGS, Driver, make_user, pbg_application


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
    ctx = live_server.ctx
    with ctx.sessions() as session:
        applicant = actor_for(session, session.scalars(select(User).where(User.username == "warga")).one())
    d = Driver(ctx)
    case_id = d.start("pbg", pbg_application(), applicant, channel="daring").id
    d.complete(case_id, "Task_kelengkapan", make_user(ctx, "c_fo", "dpmptsp.front_office"), {"kelengkapan": "lengkap"})
    d.complete(case_id, "Task_gambar_teknis", make_user(ctx, "c_griya", "konsultan.perencana",
                                                        org="konsultan_griya"), DRAWINGS)
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
    row = d.case(case_id)
    assert (row.status, row.outcome) == ("completed", "Permohonan ditolak TPA")
