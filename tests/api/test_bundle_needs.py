"""Priority service and jemput bola on an integrated application (POST /api/bundles)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_priority import AKTA, VISIT
from tests.factories import pbg_application, pbg_documents

Login = Callable[[str], dict[str, str]]


def _bundle(client: TestClient, login: Login, **extra: Any) -> Any:
    documents = pbg_documents(client, login("warga"))
    return client.post("/api/bundles", headers=login("warga"), json={
        "services": [{"process_key": "pbg", "data": pbg_application(), "documents": documents},
                     {"process_key": "akta_kelahiran", "data": AKTA}], "privacy_notice_accepted": True, **extra})


def test_priority_goes_on_every_case_and_the_visit_on_the_cases_that_offer_it(client: TestClient,
                                                                             login: Login) -> None:
    created = _bundle(client, login, priority="lansia", outreach={**VISIT, "reason": "sakit"})
    assert created.status_code == 201, created.text
    pbg, akta = (client.get(f"/api/cases/{c['id']}", headers=login("warga")).json()
                 for c in created.json()["cases"])
    assert (pbg["priority"], akta["priority"]) == ("lansia", "lansia")
    assert pbg["outreach"] is None  # a PBG site visit is a technical inspection, not jemput bola
    assert akta["outreach"] == {"reason": "sakit", "address": VISIT["address"], "contact": VISIT["contact"]}


def test_a_bad_request_is_refused_by_field_and_files_nothing(client: TestClient, login: Login) -> None:
    unknown = _bundle(client, login, priority="vip")
    assert unknown.status_code == 422, unknown.text
    assert [e["field"] for e in unknown.json()["errors"]] == ["priority"]
    no_address = _bundle(client, login, outreach={**VISIT, "address": " "})
    assert no_address.status_code == 422, no_address.text
    assert [e["field"] for e in no_address.json()["errors"]] == ["outreach_address"]
    assert client.get("/api/cases", headers=login("warga")).json()["total"] == 0
