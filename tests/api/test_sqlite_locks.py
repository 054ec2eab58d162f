"""Requests and SQLite's one write lock (issue 18): reads answer while it is held, a lost race is a 409, a
retried request writes once, and a view's access record is kept whoever writes meanwhile."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from engine.context import AppContext, build_context
from engine.models import CaseEvent, PersonalDataAccess
from tests.factories import Driver, api_upload, deploy, make_user
from tests.packages import simple_package
from tests.personal_data import KEY, NAME, NIK, make_staff, personal_package

Login = Callable[[str], dict[str, str]]


@pytest.fixture
def holder(catalogue: AppContext) -> Iterator[sqlite3.Connection]:
    """Another connection to the database file, as another process would hold it."""
    url = catalogue.settings.database_url
    if not url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=5, check_same_thread=False)
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def test_reads_answer_while_another_connection_holds_the_write_lock(
        catalogue: AppContext, holder: sqlite3.Connection, login: Login) -> None:
    headers = {name: login(name) for name in ("admin", "dpmptsp_front_office")}
    # A short busy timeout: a read that still waited for the write lock would answer 503 here.
    ctx = build_context(catalogue.settings.model_copy(update={"sqlite_busy_timeout_s": 0.2}), migrate=False)
    try:
        with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
            holder.execute("BEGIN IMMEDIATE")
            holder.execute("UPDATE user_account SET active = active")
            for path, user in (("/api/me", "admin"), ("/api/tasks", "dpmptsp_front_office"),
                               ("/api/processes", "admin")):
                response = client.get(path, headers=headers[user])
                assert response.status_code == 200, (path, response.text)
            holder.execute("ROLLBACK")
    finally:
        ctx.engine.dispose()


def test_two_completions_of_one_task_at_once_give_one_success_and_one_conflict(
        catalogue: AppContext, client: TestClient, login: Login) -> None:
    deploy(catalogue, simple_package())
    make_staff(catalogue, "petugas_a", "dinas.petugas")
    make_staff(catalogue, "petugas_b", "dinas.petugas")
    d = Driver(catalogue)
    case = d.start("uji", {"harga": 1000, "jumlah": 3}, make_user(catalogue, "pemohon"))
    task_id = d.task(case.id, "Task_periksa").id
    headers = {name: login(name) for name in ("petugas_a", "petugas_b")}
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def complete(name: str) -> None:
        barrier.wait()
        response = client.post(f"/api/tasks/{task_id}/complete", json={"data": {"catatan": name}},
                               headers=headers[name])
        statuses[name] = response.status_code

    threads = [threading.Thread(target=complete, args=(name,)) for name in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses.values()) == [200, 409]
    with catalogue.sessions() as session:
        done = list(session.scalars(select(CaseEvent.actor).where(CaseEvent.task_id == task_id,
                                                                  CaseEvent.action == "completed")))
    winner = next(name for name, status in statuses.items() if status == 200)
    assert done == [winner]
    assert d.case(case.id).status == "completed"


def test_a_task_view_is_recorded_once_when_a_writer_holds_the_lock_and_commits_meanwhile(
        catalogue: AppContext, client: TestClient, login: Login, holder: sqlite3.Connection) -> None:
    deploy(catalogue, personal_package())
    make_staff(catalogue, "petugas_uji", "dinas.petugas")
    ktp = api_upload(client, login("warga"), "ktp.pdf")
    filed = client.post("/api/cases", headers=login("warga"), json={
        "process_key": KEY, "data": {"nik": NIK, "nama_pemohon": NAME, "harga": 10, "jumlah": 2},
        "documents": {"ktp": [ktp]}, "privacy_notice_accepted": True})
    assert filed.status_code == 201, filed.text
    officer = login("petugas_uji")
    [task] = client.get("/api/tasks", headers=officer).json()["items"]
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE user_account SET active = active")  # a write that commits while the view reads
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        response = client.get(f"/api/tasks/{task['id']}", headers=officer)
    finally:
        release.join()
    assert response.status_code == 200, response.text
    assert response.json()["case_data"]["nik"] == NIK
    with catalogue.sessions() as session:
        records = list(session.scalars(select(PersonalDataAccess)))
    assert [(r.username, r.how, r.task_id) for r in records] == [("petugas_uji", "task", task["id"])]

