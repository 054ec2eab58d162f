"""Business licensing in a real browser: the risk-based trade licence's application form, and a PKKPR issued by
law (fiktif positif) as its applicant sees it on the tracking page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.db import transaction
from engine.directory.actors import actor_for
from engine.jobs.service import fire_timer
from engine.models import Job, User
from tests.browser.conftest import LiveServer, at_both_widths
from tests.factories import Driver, make_user
from tests.processes.test_pkkpr import APPLICATION, REVIEW


def test_the_trade_licence_form_asks_for_the_kbli_and_its_risk_level(
        page: Page, live_server: LiveServer, login: Callable[[Page, str], None], axe_check: Callable[..., None],
        shot: Callable[[Page, str], Any]) -> None:
    login(page, "warga")
    page.goto(f"{live_server.url}/layanan/pb_perdagangan/ajukan")
    for label in ("Nomor Induk Berusaha (NIB)", "Kode KBLI", "Judul KBLI"):
        expect(page.get_by_role("textbox", name=label)).to_be_visible()
    expect(page.get_by_text("Tingkat risiko kegiatan usaha (tercantum pada NIB)")).to_be_visible()
    expect(page.get_by_label("Menengah tinggi")).to_be_visible()
    at_both_widths(page, "pb-perdagangan-ajukan", axe_check, shot)
    page.goto(f"{live_server.url}/layanan/pb_perdagangan/ajukan?lang=en")
    expect(page.get_by_role("textbox", name="KBLI code")).to_be_visible()
    expect(page.get_by_label("Medium-high")).to_be_visible()


def test_a_pkkpr_issued_by_law_is_shown_to_its_applicant(
        page: Page, live_server: LiveServer, login: Callable[[Page, str], None], axe_check: Callable[..., None],
        shot: Callable[[Page, str], Any]) -> None:
    ctx = live_server.ctx
    with ctx.sessions() as session:
        applicant = actor_for(session, session.scalars(select(User).where(User.username == "warga")).one())
    d = Driver(ctx)
    case = d.start("pkkpr", APPLICATION, applicant, channel="daring")
    d.complete(case.id, "Task_kelengkapan", make_user(ctx, f"c{case.id}_fo", "dpmptsp.front_office"),
               {"nib_sesuai_oss": True, "kelengkapan": "lengkap"})
    d.complete(case.id, "Task_kajian", make_user(ctx, f"c{case.id}_analis", "dptr.analis_tata_ruang"), REVIEW)
    # Nobody decides: 20 working days on, the worker fires the deadline's timer (here, at once).
    with transaction(ctx.sessions) as session:
        job = session.scalars(select(Job).where(Job.kind == "timer", Job.case_id == case.id,
                                                Job.status == "pending")).one()
        job.status = "done"  # taken, as the worker takes it (running) before it fires the timer
        session.flush()
        assert fire_timer(session, rt=ctx.rt, case_id=case.id, task_id=str(job.task_id))
    d.run_jobs()  # the issued document
    assert d.case(case.id).data["terbit_fiktif_positif"] is True
    login(page, "warga")
    page.goto(f"{live_server.url}/lacak/{case.tracking_number}")
    expect(page.get_by_text("PKKPR terbit demi hukum (fiktif positif)").first).to_be_visible()
    expect(page.get_by_text("Persetujuan Kesesuaian Kegiatan Pemanfaatan Ruang").first).to_be_visible()
    at_both_widths(page, "pkkpr-fiktif-positif-lacak", axe_check, shot)
