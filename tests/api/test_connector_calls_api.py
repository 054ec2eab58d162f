"""Connector calls seen over HTTP: per case for its staff and admins, per operation in /metrics and the dashboard."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from api.bootstrap import DEMO_PASSWORD
from engine.cases import service as cases
from engine.connectors import bindings
from engine.context import AppContext
from engine.db import transaction
from engine.directory import service as directory
from engine.directory.actors import Actor, actor_for
from tests.conftest import FakeClock, fast_hasher
from tests.engine.test_connectors import START, connector_package
from tests.factories import Driver, deploy
from tests.simulators.partner import Partner

Login = Callable[[str], dict[str, str]]


def _staff(ctx: AppContext, username: str, role: str) -> Actor:
    """Create an officer holding `role` who logs in with the demo password."""
    with transaction(ctx.sessions) as session:
        user = directory.create_user(session, username=username, platform_role="officer",
                                     password_hash=fast_hasher().hash(DEMO_PASSWORD))
        directory.grant(session, user=user, role_key=role)
        return actor_for(session, user)


def _case_with_a_retry(ctx: AppContext, clock: FakeClock, partner: Partner) -> int:
    """Deploy the connector package, bind the partner, file a case whose call is answered 503 then 201."""
    deploy(ctx, connector_package("mutasi_lihat"))
    with transaction(ctx.sessions) as session:
        bindings.set_binding(session, system="bpjs_tk", actor="admin", change=bindings.BindingChange(partner.url),
                             key=ctx.settings.secret_key.get_secret_value())
    partner.reply(503, {"error": "sibuk"})
    partner.reply(201, {"data": {"nomor": "MUT-L1"}})
    d = Driver(ctx)
    case = d.start("mutasi_lihat", START, _staff(ctx, "petugas_lihat", "dinas.petugas"))
    d.run_jobs()
    clock.advance(seconds=30)
    d.run_jobs()
    return case.id


def test_the_calls_of_a_case_are_shown_to_its_officer_and_admins_only(
        client: TestClient, login: Login, catalogue: AppContext, clock: FakeClock) -> None:
    with Partner() as partner:
        case_id = _case_with_a_retry(catalogue, clock, partner)
    _staff(catalogue, "petugas_lain", "dpmptsp.front_office")
    url = f"/api/cases/{case_id}/calls"
    mine = client.get(url, headers=login("petugas_lihat"))
    assert mine.status_code == 200, mine.text
    assert [(c["attempt"], c["outcome"], c["http_status"]) for c in mine.json()] == [(2, "ok", 201), (1, "retry", 503)]
    assert all(c["duration_ms"] >= 0 and c["operation"] == "bpjs_tk.transfer" for c in mine.json())
    assert client.get(url, headers=login("admin")).json() == mine.json()
    assert client.get(url, headers=login("petugas_lain")).status_code == 404  # another agency's officer
    assert client.get(url, headers=login("warga")).status_code == 404  # applicants do not see partner calls
    assert client.get(url).status_code == 401


def test_an_applicant_does_not_see_the_calls_of_their_own_case(
        client: TestClient, login: Login, catalogue: AppContext) -> None:
    with transaction(catalogue.sessions) as session:
        applicant = actor_for(session, directory.get_user(session, "warga"))
    deploy(catalogue, connector_package("serah_api", operation="disdukcapil.serahkan", connectors=None))
    officer = _staff(catalogue, "petugas_sendiri", "dinas.petugas")
    with transaction(catalogue.sessions) as session:
        case = cases.start_case(session, rt=catalogue.rt, process_key="serah_api", data=START, channel="tatap_muka",
                                actor=officer, applicant_id=applicant.user_id)
    Driver(catalogue).run_jobs()
    assert client.get(f"/api/cases/{case.id}", headers=login("warga")).status_code == 200  # their own case
    assert client.get(f"/api/cases/{case.id}/calls", headers=login("warga")).status_code == 404
    [row] = client.get(f"/api/cases/{case.id}/calls", headers=login("petugas_sendiri")).json()
    assert (row["operation"], row["system"], row["outcome"]) == ("disdukcapil.serahkan", None, "ok")


def test_metrics_and_the_dashboard_count_calls_per_operation(
        client: TestClient, login: Login, catalogue: AppContext, clock: FakeClock) -> None:
    with Partner() as partner:
        _case_with_a_retry(catalogue, clock, partner)
    text = client.get("/metrics").text
    assert 'mpp_connector_calls_total{operation="bpjs_tk.transfer",outcome="ok"} 1.0' in text
    assert 'mpp_connector_calls_total{operation="bpjs_tk.transfer",outcome="retry"} 1.0' in text
    assert 'mpp_connector_call_seconds_count{operation="bpjs_tk.transfer"} 2.0' in text
    assert 'mpp_connector_call_seconds_bucket{le="+Inf",operation="bpjs_tk.transfer"} 2.0' in text
    figures = client.get("/api/dashboard/connectors", headers=login("admin"))
    assert figures.status_code == 200, figures.text
    [row] = figures.json()
    assert (row["operation"], row["calls"], row["errors"], row["error_rate"], row["retries"]) == (
        "bpjs_tk.transfer", 2, 0, 0.0, 1)
    assert client.get("/api/dashboard/connectors", headers=login("petugas_lihat")).status_code == 403


def _page_login(client: TestClient, username: str) -> TestClient:
    page = TestClient(client.app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get("/masuk").text)
    assert token
    response = page.post("/masuk", data={"username": username, "password": DEMO_PASSWORD,
                                         "csrf_token": token.group(1)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return page


def test_the_staff_case_page_and_the_dashboard_show_the_calls(
        client: TestClient, catalogue: AppContext, clock: FakeClock) -> None:
    with Partner() as partner:
        case_id = _case_with_a_retry(catalogue, clock, partner)
    officer = _page_login(client, "petugas_lihat")
    page = officer.get(f"/kasus/{case_id}")
    assert page.status_code == 200
    table = page.text[page.text.index('id="case-calls"'):]
    assert "Panggilan ke sistem mitra" in page.text
    assert "bpjs_tk.transfer" in table
    assert "503" in table
    assert "201" in table
    assert "diulang" in table
    task = re.search(r'href="/tugas/([0-9a-f-]{36})"', officer.get("/kotak-tugas").text)
    assert task
    assert 'id="case-calls"' in officer.get(f"/tugas/{task.group(1)}").text
    dashboard = _page_login(client, "admin").get("/dasbor")
    assert dashboard.status_code == 200
    assert 'id="connector-table"' in dashboard.text
    assert 'data-operation="bpjs_tk.transfer"' in dashboard.text
