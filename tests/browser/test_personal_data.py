"""Personal data in the browser (issue 20): a supervisor sees the NIK masked and reveals it with a reason; the
applicant sees on the tracking page which agency opened it; the data-protection officer reviews the record."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.directory.actors import actor_for
from engine.models import User
from tests.browser.conftest import LiveServer, at_both_widths
from tests.factories import Driver, deploy
from tests.personal_data import KEY, NAME, NIK, NIK_MASKED, make_staff, personal_package

Shot = Callable[[Page, str], Path]


def _file_case(live: LiveServer) -> tuple[int, str]:
    """File a case of the test service as `warga` (with a NIK and a name) and make its agency's supervisor."""
    deploy(live.ctx, personal_package())
    make_staff(live.ctx, "penyelia_uji", "dinas.supervisor")
    with live.ctx.sessions() as session:
        applicant = actor_for(session, session.scalars(select(User).where(User.username == "warga")).one())
    started = Driver(live.ctx).start(KEY, {"nik": NIK, "nama_pemohon": NAME, "harga": 10, "jumlah": 2}, applicant,
                                     channel="daring")
    return started.id, started.tracking_number


def test_a_supervisor_reveals_with_a_reason_and_the_applicant_sees_who_opened_it(
        page: Page, live_server: LiveServer, login: Callable[[Page, str], None], axe_check: Callable[..., None],
        shot: Shot) -> None:
    case_id, number = _file_case(live_server)
    login(page, "penyelia_uji")
    page.goto(f"{live_server.url}/kasus/{case_id}")
    data = page.locator("#case-data")
    expect(data.locator('[data-field="nik"]')).to_have_text(NIK_MASKED)
    expect(data).not_to_contain_text(NAME)
    at_both_widths(page, "personal-data-masked", axe_check, shot)

    page.get_by_text("Tampilkan data pribadi", exact=True).first.click()
    page.get_by_label("Alasan", exact=True).fill("Menindaklanjuti pengaduan pemohon")
    axe_check(page)
    shot(page, "personal-data-reveal-form")
    page.locator("#reveal-submit").click()
    expect(page.locator('#case-data [data-field="nik"]')).to_have_text(NIK)
    expect(page.locator("#revealed-note")).to_be_visible()
    at_both_widths(page, "personal-data-revealed", axe_check, shot)

    page.context.clear_cookies()
    login(page, "ppdp")
    page.goto(f"{live_server.url}/admin/akses-data")
    expect(page.locator("#reveals")).to_contain_text("Menindaklanjuti pengaduan pemohon")
    expect(page.locator("#accesses")).to_contain_text(number)
    at_both_widths(page, "personal-data-dpo", axe_check, shot)

    page.context.clear_cookies()
    login(page, "warga")
    page.goto(f"{live_server.url}/lacak/{number}")
    openings = page.locator("#openings-list")
    expect(openings).to_contain_text("Dinas Uji")
    expect(openings).to_contain_text("dibuka dengan alasan")
    expect(page.locator("#openings")).not_to_contain_text("penyelia_uji")
    at_both_widths(page, "personal-data-tracking", axe_check, shot)
