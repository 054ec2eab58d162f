"""The SLA dashboard in a real browser: figures, the heat map on the diagram, CSV download, who may see it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from engine.sla.service import WIB
from tests.browser.conftest import LiveServer
from tests.factories import Driver, make_user, pbg_application


def _seed(server: LiveServer) -> int:
    """Start two PBG applications (one through the front-office step) and return the first case id."""
    d = Driver(server.ctx)
    applicant = make_user(server.ctx, "pemohon_dasbor")
    first = d.start("pbg", pbg_application(), applicant)
    d.start("pbg", pbg_application(nama_pemohon="Siti Aminah"), applicant)
    front = make_user(server.ctx, "loket_dasbor", "dpmptsp.front_office")
    d.complete(first.id, "Task_kelengkapan", front, {"kelengkapan": "lengkap"})
    return first.id


def test_dashboard_shows_figures_heat_map_and_csv(page: Page, live_server: LiveServer, login: Callable[..., None],
                                                  axe_check: Callable[..., None],
                                                  shot: Callable[[Page, str], Path]) -> None:
    _seed(live_server)
    today = datetime.now(WIB).date().isoformat()
    login(page, "admin")
    page.goto(f"{live_server.url}/dasbor")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dasbor SLA")
    page.locator("#f-layanan").select_option("pbg")
    page.get_by_role("button", name="Terapkan").click()
    row = page.locator("#service-table tr[data-service=pbg]")
    expect(row.locator("td").nth(2)).to_have_text("2")  # started
    expect(row.locator("td").nth(3)).to_have_text("2")  # open
    expect(page.locator("#step-table tr[data-step=Task_kelengkapan] td").nth(2)).to_have_text("1")  # done
    expect(page.locator("#skm-table tr[data-skm=pbg]")).to_contain_text("Belum ada jawaban survei")
    heat = page.locator("#heatmap")
    expect(heat).to_have_attribute("data-ready", "1")
    task = page.locator("#heatmap [data-element-id=Task_kelengkapan]")
    expect(task).to_have_class(re.compile(r"heat-[1-4]"))
    expect(page.locator("#heatmap .heat-badge[data-element=Task_kelengkapan]")).to_be_visible()
    expect(page.locator("#heatmap .bjs-powered-by")).to_be_visible()  # the bpmn.io watermark stays
    axe_check(page)
    shot(page, "dashboard-heatmap")
    with page.expect_download() as info:
        page.locator("#csv-link").click()
    download = info.value
    assert download.suggested_filename == f"dasbor-sla-{today}.csv"
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    assert rows[0][:5] == ["section", "process_key", "element_id", "agency", "name"]
    service = next(r for r in rows if r[0] == "service")
    assert (service[1], service[5], service[6]) == ("pbg", "2", "2")
    assert {r[2] for r in rows if r[0] == "step"} >= {"Task_kelengkapan"}
    page.goto(f"{live_server.url}/dasbor?lang=en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("SLA and satisfaction dashboard")
    page.goto(f"{live_server.url}/dasbor?lang=id")


def test_a_supervisor_sees_their_agency_and_an_officer_nothing(
    page: Page, live_server: LiveServer, login: Callable[..., None], axe_check: Callable[..., None],
) -> None:
    login(page, "pupr_supervisor")
    page.goto(f"{live_server.url}/dasbor")
    expect(page.locator("main")).to_contain_text("pupr")
    expect(page.locator("#agency-table")).not_to_contain_text("DPMPTSP")
    axe_check(page)
    response = page.goto(f"{live_server.url}/dasbor?instansi=dpmptsp")
    assert response is not None
    assert response.status == 403
    csv_response = page.request.get(f"{live_server.url}/dasbor/ekspor.csv?instansi=dpmptsp")
    assert csv_response.status == 403
    page.context.clear_cookies()
    login(page, "dpmptsp_front_office")
    response = page.goto(f"{live_server.url}/dasbor")
    assert response is not None
    assert response.status == 403
    assert page.request.get(f"{live_server.url}/dasbor/ekspor.csv").status == 403


def test_an_escalated_task_is_marked_in_the_supervisors_inbox(
    page: Page, live_server: LiveServer, login: Callable[..., None], axe_check: Callable[..., None],
) -> None:
    from sqlalchemy import update

    from engine.db import transaction
    from engine.models import OpenTask

    d = Driver(live_server.ctx)
    case = d.start("pbg", pbg_application(nama_pemohon="Rina"), make_user(live_server.ctx, "pemohon_eskalasi"))
    task = d.task(case.id, "Task_kelengkapan")
    with transaction(live_server.ctx.sessions) as session:  # the front office let it pass its due time
        session.execute(update(OpenTask).where(OpenTask.id == task.id)
                        .values(due_at=datetime.now(WIB) - timedelta(hours=1)))
    d.run_jobs()
    login(page, "dpmptsp_supervisor")
    page.goto(f"{live_server.url}/kotak-tugas")
    row = page.locator(f"#task-table tr[data-task='{task.id}']")
    expect(row).to_contain_text("eskalasi")
    expect(row.get_by_role("button", name="Ambil")).to_be_visible()
    axe_check(page)
    row.get_by_role("button", name="Ambil").click()
    expect(page).to_have_url(re.compile(rf"/tugas/{task.id}$"))
