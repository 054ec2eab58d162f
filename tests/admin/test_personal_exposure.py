"""Least exposure: lists, search hits, drill-downs, exports and errors show personal data masked or not at all.

The case page, the task page and GET /api/cases/{id} (which show the full values to whoever needs
them) are not tested here.
"""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.admin.test_daily_work_pages import SUPERVISOR, ApiLogin, PageLogin, get, rows
from tests.api.conftest import login  # noqa: F401 - fixture
from tests.api.test_tasks import FRONT, start
from tests.factories import pbg_application, pbg_documents

NAME, NIK, PHONE, EMAIL = "Rahayu Kusumawardani", "3471055566667777", "081398765432", "rahayu.k@example.id"
MASKED_NAME, MASKED_NIK = "R***** K******", "3471********7777"


def _start(client: TestClient, login: ApiLogin) -> dict[str, object]:
    return start(client, login, nama_pemohon=NAME, nik=NIK, telepon=PHONE, email=EMAIL)


def _nothing_in_full(text: str) -> None:
    for value in (NAME, NIK, PHONE, EMAIL, "Kusumawardani"):
        assert value not in text, value


def test_staff_lists_show_the_applicant_masked(client: TestClient, login: ApiLogin,
                                               page_login: PageLogin) -> None:
    case = _start(client, login)
    page_login(FRONT)
    inbox = get(client, "/kotak-tugas")
    assert rows(inbox) == [case["tracking_number"]]
    assert MASKED_NAME in inbox
    _nothing_in_full(inbox)
    # The counter still finds the case by the full NIK; the hit shows it masked.
    found = client.get("/kasus", params={"cari": NIK}).text
    assert f'href="/kasus/{case["id"]}"' in found
    assert MASKED_NAME in found
    assert MASKED_NIK in found
    assert NAME not in found
    assert PHONE not in found
    assert EMAIL not in found
    by_name = get(client, "/kasus", cari="rahayu")
    assert MASKED_NAME in by_name
    _nothing_in_full(by_name)
    page_login(SUPERVISOR)
    queue = get(client, "/pengawasan")
    assert MASKED_NAME in queue
    _nothing_in_full(queue)
    page_login("admin")
    drilled = get(client, "/kasus", layanan="pbg")  # the dashboard's drill-down
    assert f'href="/kasus/{case["id"]}"' in drilled
    _nothing_in_full(drilled)
    export = client.get("/dasbor/ekspor.csv")
    assert export.status_code == 200
    _nothing_in_full(export.text)


def test_api_lists_and_search_carry_no_value_in_full(client: TestClient, login: ApiLogin) -> None:
    case = _start(client, login)
    hits = client.get("/api/cases/search", params={"q": NIK}, headers=login(FRONT))
    assert hits.status_code == 200
    [hit] = hits.json()["items"]
    assert (hit["id"], hit["applicant_name"], hit["nik"]) == (case["id"], MASKED_NAME, MASKED_NIK)
    for url in ("/api/cases", "/api/tasks", "/api/cases/search?q=rahayu"):
        response = client.get(url, headers=login("admin" if url == "/api/cases" else FRONT))
        assert response.status_code == 200, url
        _nothing_in_full(response.text)


def test_a_refused_application_never_echoes_what_was_typed(client: TestClient, login: ApiLogin) -> None:
    typed = {"nik": "34710555666677779", "telepon": "0813-9876-5432x", "email": "rahayu.k@"}
    body = {"process_key": "pbg", "data": pbg_application(**typed), "channel": "daring",
            "documents": pbg_documents(client, login("warga")), "privacy_notice_accepted": True}
    response = client.post("/api/cases", json=body, headers=login("warga"))
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"nik", "telepon", "email"} <= fields
    for value in typed.values():
        assert value not in response.text, value
