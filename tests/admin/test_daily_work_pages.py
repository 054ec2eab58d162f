"""The staff pages of daily work: the inbox table, the case search, supervisors' views, read-only tasks."""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.context import AppContext
from engine.models import AuditEntry, OpenTask
from tests.api.conftest import login  # noqa: F401 - fixture
from tests.api.test_tasks import FRONT, make_officer, start, task_of
from tests.conftest import FakeClock

PageLogin = Callable[[str], str]
ApiLogin = Callable[[str], dict[str, str]]
SUPERVISOR = "dpmptsp_supervisor"


def rows(html: str) -> list[str]:
    """Return the tracking numbers of the task table's rows, in order."""
    return re.findall(r'data-tracking="([^"]+)"', html)


def get(client: TestClient, url: str, **params: Any) -> str:
    response = client.get(url, params=params) if params else client.get(url)
    assert response.status_code == 200, response.text
    return response.text


def holder(ctx: AppContext, task_id: str) -> int | None:
    with ctx.sessions() as session:
        return session.scalar(select(OpenTask.assignee_id).where(OpenTask.id == task_id))


# ---------------------------------------------------------------- inbox


def test_the_inbox_table_shows_case_applicant_service_channel_waiting_and_sla(
        client: TestClient, login: ApiLogin, page_login: PageLogin, clock: FakeClock) -> None:
    case = start(client, login, nama_pemohon="Siti Aminah")
    clock.advance(hours=5)
    page_login(FRONT)
    html = get(client, "/kotak-tugas")
    assert rows(html) == [case["tracking_number"]]
    assert "Siti Aminah" not in html  # the list shows the applicant masked (forms.personal); the task page in full
    for text in ("Persetujuan Bangunan Gedung (PBG)", "S*** A*****", "<td>Daring</td>", "5 jam 0 mnt",
                 "Pemeriksaan kelengkapan berkas", "tepat waktu", "belum diambil", 'aria-sort="ascending"'):
        assert text in html, text
    english = get(client, "/kotak-tugas", lang="en")
    assert "Building Approval (PBG)" in english
    assert "5 h 0 min" in english
    assert "<td>Contactless</td>" in english
    clock.advance(days=5)  # the two-working-day check is overdue now
    html = get(client, "/kotak-tugas", terlambat="1", lang="id")
    assert rows(html) == [case["tracking_number"]]
    assert 'class="badge bad">terlambat' in html


def test_the_inbox_searches_filters_and_sorts_on_the_server(client: TestClient, login: ApiLogin,
                                                            page_login: PageLogin, clock: FakeClock) -> None:
    zaenal = start(client, login, nama_pemohon="Zaenal Arifin", nik="3471000000000001")["tracking_number"]
    clock.advance(hours=1)
    agus = start(client, login, nama_pemohon="Agus Salim", nik="3471000000000002")["tracking_number"]
    page_login(FRONT)
    assert rows(get(client, "/kotak-tugas", cari="3471000000000002")) == [agus]
    assert rows(get(client, "/kotak-tugas", cari="zaenal")) == [zaenal]
    assert rows(get(client, "/kotak-tugas", cari=agus.lower())) == [agus]
    assert rows(get(client, "/kotak-tugas", cari="tidak ada")) == []
    assert rows(get(client, "/kotak-tugas", kanal="tatap_muka")) == []
    filtered = get(client, "/kotak-tugas", kanal="daring", layanan="pbg", langkah="Task_kelengkapan")
    assert rows(filtered) == [zaenal, agus]
    assert rows(get(client, "/kotak-tugas", langkah="Task_tpa")) == []
    assert rows(get(client, "/kotak-tugas", terlambat="1")) == []
    assert rows(get(client, "/kotak-tugas", urut="pemohon")) == [agus, zaenal]
    by_name_desc = get(client, "/kotak-tugas", urut="pemohon", arah="turun")
    assert rows(by_name_desc) == [zaenal, agus]
    assert re.search(r'<th scope="col" aria-sort="descending"><a href="[^"]*urut=pemohon', by_name_desc)
    assert rows(get(client, "/kotak-tugas", urut="menunggu", arah="turun")) == [zaenal, agus]  # longest wait first
    assert rows(get(client, "/kotak-tugas", urut="menunggu")) == [agus, zaenal]
    assert rows(get(client, "/kotak-tugas", urut="bukan-kolom")) == [zaenal, agus]  # an unknown sort: by due date


def test_the_inbox_keeps_its_authorization(client: TestClient, login: ApiLogin, page_login: PageLogin) -> None:
    start(client, login)
    page_login("pupr_tpa")
    assert rows(get(client, "/kotak-tugas", cari="3471012345678901")) == []
    assert rows(get(client, "/kotak-tugas")) == []


# ---------------------------------------------------------------- case search page


def test_the_counter_finds_a_case_by_nik(client: TestClient, login: ApiLogin, page_login: PageLogin) -> None:
    case = start(client, login, nama_pemohon="Siti Aminah", nik="3471099988887777")
    page_login(FRONT)
    html = get(client, "/kasus", cari="3471099988887777")
    assert f'href="/kasus/{case["id"]}"' in html
    # Found by the full NIK, shown masked: the case page shows the values to whoever needs them.
    assert "S*** A*****" in html
    assert "3471********7777" in html
    assert "Siti Aminah" not in html
    assert "Tidak ada kasus" in get(client, "/kasus", cari="3471099988880000")
    assert "Ketik minimal" in get(client, "/kasus", cari="34")
    assert "<table" not in get(client, "/kasus")
    page_login("pupr_tpa")
    assert "Tidak ada kasus" in get(client, "/kasus", cari="3471099988887777")


@pytest.mark.parametrize("username", ["warga", "analis"])
def test_applicants_and_analysts_get_no_case_search(client: TestClient, login: ApiLogin, page_login: PageLogin,
                                                    username: str) -> None:
    start(client, login)
    page_login(username)
    response = client.get("/kasus", params={"cari": "3471012345678901"})
    assert response.status_code == 403
    assert "3471012345678901" not in response.text


# ---------------------------------------------------------------- read-only task page and case page


def test_an_admin_and_the_supervisor_read_a_task_without_acting(client: TestClient, login: ApiLogin,
                                                                page_login: PageLogin) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    for username in ("admin", SUPERVISOR):
        page_login(username)
        assert f'href="/tugas/{task_id}"' in get(client, f"/kasus/{case['id']}")
        html = get(client, f"/tugas/{task_id}")
        assert 'id="read-only-note"' in html
        assert 'id="task-form"' not in html
        assert f'href="/pengawasan/tugas/{task_id}"' in html
    page_login("pupr_supervisor")
    assert client.get(f"/tugas/{task_id}").status_code == 403
    assert client.get(f"/kasus/{case['id']}").status_code == 404
    page_login(FRONT)
    html = get(client, f"/tugas/{task_id}")
    assert 'id="task-form"' in html
    assert 'id="read-only-note"' not in html


# ---------------------------------------------------------------- supervision pages


def test_the_supervision_page_shows_the_agency_queue_and_workload(client: TestClient, login: ApiLogin,
                                                                  page_login: PageLogin) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    assert client.post(f"/api/tasks/{task_id}/claim", headers=login(FRONT)).status_code == 200
    page_login(SUPERVISOR)
    html = get(client, "/pengawasan")
    assert rows(html) == [case["tracking_number"]]
    assert re.search(rf'data-officer="{FRONT}">.*?<td>1</td>', html, re.S)
    assert f'href="/pengawasan/tugas/{task_id}"' in html
    assert "/pengawasan" in get(client, "/kotak-tugas")  # the inbox links to it
    for username in (FRONT, "pupr_tpa"):
        page_login(username)
        assert client.get("/pengawasan").status_code == 403
        assert client.get(f"/pengawasan/tugas/{task_id}").status_code == 403
    page_login("pupr_supervisor")
    assert rows(get(client, "/pengawasan")) == []
    assert client.get(f"/pengawasan/tugas/{task_id}").status_code == 403


def test_the_supervisor_reassigns_through_the_page(client: TestClient, login: ApiLogin, page_login: PageLogin,
                                                   catalogue: AppContext) -> None:
    make_officer(client, login, "petugas_b", "dpmptsp.front_office")
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    assert client.post(f"/api/tasks/{task_id}/claim", headers=login(FRONT)).status_code == 200
    before = holder(catalogue, task_id)
    token = page_login(SUPERVISOR)
    form = get(client, f"/pengawasan/tugas/{task_id}")
    assert 'value="petugas_b"' in form
    assert 'value="pupr_tpa"' not in form
    url = f"/pengawasan/tugas/{task_id}/alihkan"
    assert client.post(url, data={"ke": "petugas_b", "alasan": "cuti"}, follow_redirects=False).status_code == 403
    refused = client.post(url, data={"ke": "pupr_tpa", "alasan": "cuti", "csrf_token": token})
    assert refused.status_code == 422
    assert "tidak memegang peran" in refused.text
    empty = client.post(url, data={"ke": "petugas_b", "alasan": " ", "csrf_token": token})
    assert empty.status_code == 422
    assert "isi alasannya" in empty.text
    assert holder(catalogue, task_id) == before
    moved = client.post(url, data={"ke": "petugas_b", "alasan": "Petugas A cuti", "csrf_token": token},
                        follow_redirects=False)
    assert moved.status_code == 303
    assert "Tugas dialihkan" in get(client, moved.headers["location"])
    assert holder(catalogue, task_id) not in (None, before)
    assert "Petugas A cuti" in get(client, f"/kasus/{case['id']}")
    assert "Dialihkan" in get(client, f"/kasus/{case['id']}")
    released = client.post(f"/pengawasan/tugas/{task_id}/lepaskan", data={"alasan": "kembali", "csrf_token": token},
                           follow_redirects=False)
    assert released.status_code == 303
    assert holder(catalogue, task_id) is None
    with catalogue.sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == f"task:{task_id}")))
    assert actions == ["task.reassigned", "task.released"]
    token = page_login(FRONT)
    assert client.post(url, data={"ke": "petugas_b", "alasan": "x", "csrf_token": token}).status_code == 403
