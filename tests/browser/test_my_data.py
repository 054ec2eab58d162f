"""Data subjects' rights in the browser (issue 20): the citizen's "Data pribadi saya" page, its downloads and a
correction request; the data-protection officer places a legal hold on a case."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.directory.actors import actor_for
from engine.models import Case, User
from tests.browser.conftest import LiveServer, at_both_widths
from tests.engine.test_retention import NAME, NIK, _closed_case, privacy_package
from tests.factories import deploy, make_user

Shot = Callable[[Page, str], Path]


def _warga_case(live: LiveServer) -> tuple[int, str]:
    deploy(live.ctx, privacy_package())
    with live.ctx.sessions() as session:
        warga = actor_for(session, session.scalars(select(User).where(User.username == "warga")).one())
    case_id = _closed_case(live.ctx, warga, make_user(live.ctx, "petugas_privasi", "dinas.petugas"))
    with live.ctx.sessions() as session:
        return case_id, session.get(Case, case_id).tracking_number  # type: ignore[union-attr]


def test_the_citizen_sees_and_downloads_their_data_and_the_dpo_holds_a_case(
        page: Page, live_server: LiveServer, login: Callable[[Page, str], None], axe_check: Callable[..., None],
        shot: Shot) -> None:
    case_id, number = _warga_case(live_server)
    login(page, "warga")
    page.goto(f"{live_server.url}/permohonan-saya")
    page.locator("#my-data-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Data pribadi saya")
    case = page.locator(f"#kasus-{number}")
    case.locator("summary").first.click()
    expect(case).to_contain_text(NAME)
    expect(case).to_contain_text(NIK)
    at_both_widths(page, "my-data", axe_check, shot)

    with page.expect_download() as info:
        page.locator("#download-json").click()
    export = json.loads(Path(info.value.path()).read_text("utf-8"))
    assert number in [c["tracking_number"] for c in export["cases"]]
    with page.expect_download() as info:
        page.locator("#download-pdf").click()
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")

    page.locator("#f-isian").select_option(f"{number}|telepon")
    page.get_by_label("Nilai yang benar").fill("081299990000")
    page.get_by_label("Alasan perbaikan").fill("Nomor telepon saya sudah berganti sejak bulan lalu")
    page.get_by_label("Saya telah membaca dan menyetujui pemberitahuan privasi ini").check()
    page.locator("#koreksi-submit").click()
    expect(page.locator("#koreksi-created")).to_contain_text("terkirim ke instansi")
    expect(page.locator("#koreksi-list")).to_contain_text("Diproses")
    page.locator("#koreksi").scroll_into_view_if_needed()
    at_both_widths(page, "my-data-correction", axe_check, shot)

    page.context.clear_cookies()
    login(page, "admin")
    page.goto(f"{live_server.url}/kasus/{case_id}")
    page.get_by_label("Alasan penahanan (mis. perkara di pengadilan, pemeriksaan)").fill("Sengketa di PTUN Yogyakarta")
    page.get_by_role("button", name="Tahan permohonan ini").click()
    hold = page.locator("#penahanan")
    expect(hold).to_contain_text("Ditahan")
    expect(hold).to_contain_text("Sengketa di PTUN Yogyakarta")
    hold.scroll_into_view_if_needed()
    at_both_widths(page, "legal-hold", axe_check, shot)
