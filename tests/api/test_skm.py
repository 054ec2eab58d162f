"""The SKM semester report over JSON: figures per service and MPP-wide, periods, given populations, access."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.context import AppContext
from engine.models import SurveyResponse
from tests.admin.test_skm_report import record_answers
from tests.api.test_cases import assert_problem
from tests.engine.sla_package import sla_package
from tests.factories import Driver, deploy, make_user


def test_the_report_api(client: TestClient, catalogue: AppContext, login: Callable[[str], dict[str, str]]) -> None:
    record_answers(catalogue)
    response = client.get("/api/dashboard/skm/report", params={"semester": "2026-1"}, headers=login("admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    [unit] = [u for u in body["services"] if u["process_key"] == "sla_uji"]
    assert (unit["respondents"], unit["ikm"], unit["index"], unit["grade"]) == (3, "3.0000", "75.00", "C")
    assert unit["elements"][0]["nrr"] == "3.00"
    assert unit["elements"][0]["nrr_weighted"] == "0.3333"
    assert (unit["population"], unit["minimum_sample"], unit["below_minimum"]) == (0, 0, False)
    assert unit["channels"] == {"daring": 0, "kiosk": 3}
    assert body["overall"]["process_key"] is None
    assert body["overall"]["respondents"] == 3
    ranged = client.get("/api/dashboard/skm/report", params={"date_from": "2026-03-01", "date_to": "2026-03-31",
                                                             "population": "sla_uji:10"}, headers=login("admin"))
    assert [u["minimum_sample"] for u in ranged.json()["services"] if u["process_key"] == "sla_uji"] == [10]
    refused = client.get("/api/dashboard/skm/report", params={"population": "sla_uji=10"}, headers=login("admin"))
    assert refused.status_code == 400
    assert client.get("/api/dashboard/skm/report", headers=login("warga")).status_code == 403


def test_the_api_records_the_profile_when_given(client: TestClient, catalogue: AppContext) -> None:
    deploy(catalogue, sla_package())
    d = Driver(catalogue)
    case = d.start("sla_uji", {}, make_user(catalogue, "pemohon_api"))
    d.complete(case.id, "Task_terima", make_user(catalogue, "loket_api", "dinas.loket"), {})
    d.complete(case.id, "Task_verifikasi", make_user(catalogue, "verif_api", "teknis.verifikator"), {})
    url = f"/api/track/{case.tracking_number}/survey"
    scores = {f"u{n}": 3 for n in range(1, 10)}
    bad = client.post(url, json={"pin": case.pin, "answers": scores, "profile": {"gender": "l", "age_group": "99"}})
    errors = assert_problem(bad, 422, "form-invalid")["errors"]
    assert [e["field"] for e in errors] == ["age_group", "education", "occupation"]
    profile = {"gender": "x", "age_group": "50_59", "education": "s2p", "occupation": "lainnya"}
    done = client.post(url, json={"pin": case.pin, "answers": scores, "profile": profile})
    assert done.status_code == 201, done.text
    with catalogue.sessions() as session:
        row = session.scalars(select(SurveyResponse)).one()
        assert (row.gender, row.age_group, row.education, row.occupation, row.channel) == (
            "x", "50_59", "s2p", "lainnya", "daring")
