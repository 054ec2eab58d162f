"""A refused form keeps the files that did upload and nothing else; a success commits everything.

The transactional route commits what an endpoint returns (even a 4xx page) and rolls back what
raises; the form pages undo their refused case or task write in a savepoint.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.context import AppContext
from engine.db import Base
from tests.web.test_pages import APPLICATION, PDF, apply, csrf, front_office_task, log_in

pytestmark = pytest.mark.postgres


def _counts(client: TestClient) -> dict[str, int]:
    ctx: AppContext = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.sessions() as session:
        return {name: session.scalar(select(func.count()).select_from(table)) or 0
                for name, table in Base.metadata.tables.items()}


def _changed(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in before if after[name] != before[name]}


def test_a_refused_application_keeps_its_uploaded_file_and_nothing_else(client: TestClient) -> None:
    log_in(client, "warga")
    csrf(client, "/layanan/pbg/ajukan")
    before = _counts(client)
    status, html = apply(client, nik="12345")
    assert status == 422
    assert len(re.findall(r'name="dokumen__keep" value="(file:\d+)"', html)) == 1
    assert _changed(before, _counts(client)) == {"stored_file": 3}  # the document and the two requirements


def test_a_refused_task_form_writes_nothing_and_a_completed_one_commits(client: TestClient) -> None:
    front, task_id, token = front_office_task(client)
    before = _counts(client)
    refused = front.post(f"/tugas/{task_id}", data={"kelengkapan": "hampir", "csrf_token": token})
    assert refused.status_code == 422
    # Nothing of the case is written; the form shown again with the applicant's data is a recorded view.
    assert _changed(before, _counts(client)) == {"personal_data_access": 1}
    done = front.post(f"/tugas/{task_id}", data={"kelengkapan": "lengkap", "csrf_token": token},
                      follow_redirects=False)
    assert done.status_code == 303
    assert _changed(before, _counts(client)).get("case_event", 0) > 0


def test_a_domain_error_raised_by_a_page_undoes_the_whole_request(client: TestClient) -> None:
    log_in(client, "warga")
    token = csrf(client, "/layanan/pbg/ajukan")
    before = _counts(client)
    # The page raises (an unknown service): the request's transaction is rolled back whole.
    response = client.post("/layanan/tidak-ada/ajukan", data={**APPLICATION, "csrf_token": token},
                           files={"dokumen": ("ktp.pdf", PDF, "application/pdf")})
    assert response.status_code == 404
    assert "Tidak ditemukan" in response.text
    assert _changed(before, _counts(client)) == {}
