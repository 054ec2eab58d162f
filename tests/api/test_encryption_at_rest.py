"""Sensitive personal data is ciphertext in the database and on disk, and the platform still works on it.

Filed and moved on through the real API, a case's NIK must appear nowhere in the database's raw bytes
(SQLite: the file, after a checkpoint; PostgreSQL: every row of every table as text) nor the KTP scan
on disk in clear; the applicant still reads it, the counter finds the case by the full NIK, and a
key rotation (add a key, rotate, drop the old one) leaves everything readable.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import inspect, text

from api.app import create_app
from api.bootstrap import DEMO_PASSWORD
from engine.context import AppContext, build_context
from engine.documents import filestore as filestore
from engine.models import Case, StoredFile
from engine.privacy import cipher as cipher
from engine.privacy import keys as keys
from engine.privacy import rotate as rotate
from tests.api.test_tasks import FRONT, GRIYA, start, task_of
from tests.conftest import FakeClock
from tests.factories import PDF, api_drawings

Login = Callable[[str], dict[str, str]]
NIK = "3471055566677788"
KEY_1 = base64.b64encode(b"1" * 32).decode()
KEY_2 = base64.b64encode(b"2" * 32).decode()


def raw_database(ctx: AppContext) -> bytes:
    """Return what an attacker with the database (not the keys) reads: file bytes or every row as text."""
    if ctx.engine.dialect.name == "sqlite":
        path = Path(str(ctx.engine.url.database))
        ctx.engine.dispose()  # the pool's idle connections would hold the checkpoint back
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    with ctx.engine.connect() as conn:  # pg_dump's data, table by table, as PostgreSQL prints rows
        tables = inspect(conn).get_table_names()
        return "\n".join(str(row[0]) for table in tables
                         for row in conn.execute(text(f'SELECT t::text FROM "{table}" t'))).encode()  # noqa: S608


def file_case(client: TestClient, login: Login) -> dict[str, Any]:
    case = start(client, login, nik=NIK)
    for username, element, data in ((FRONT, "Task_kelengkapan", {"kelengkapan": "lengkap"}),
                                    (GRIYA, "Task_gambar_teknis", api_drawings(client, login(GRIYA)))):
        task_id = task_of(client, login, int(case["id"]), element)
        response = client.post(f"/api/tasks/{task_id}/complete", json={"data": data}, headers=login(username))
        assert response.status_code == 200, response.text
    return case


def search(client: TestClient, login: Login, q: str) -> list[str]:
    response = client.get("/api/cases/search", params={"q": q}, headers=login(FRONT))
    assert response.status_code == 200, response.text
    return [hit["tracking_number"] for hit in response.json()["items"]]


def test_the_nik_is_ciphertext_at_rest_and_the_case_still_works(client: TestClient, login: Login,
                                                                 catalogue: AppContext) -> None:
    case = file_case(client, login)
    case_id = int(case["id"])
    raw = raw_database(catalogue)
    assert b"Budi Santoso" in raw, "the scan reads the stored rows"
    assert NIK.encode() not in raw
    with catalogue.engine.connect() as conn:  # the columns themselves, read without the model's types
        data = conn.execute(text("SELECT CAST(data AS TEXT) FROM case_record WHERE id = :c"), {"c": case_id}).scalar()
        payloads = conn.execute(text("SELECT payload FROM case_state WHERE case_id = :c"), {"c": case_id}).scalars()
        diffs = conn.execute(text("SELECT CAST(diff AS TEXT) FROM case_event WHERE case_id = :c"),
                             {"c": case_id}).scalars()
        stored = [str(v) for v in [data, *payloads, *diffs]]
    assert not [v for v in stored if NIK in v]
    assert '"nik":"enc:1:k0:' in str(data).replace(" ", ""), "sealed under the key derived from the secret"
    assert "Budi Santoso" in str(data), "personal (not sensitive) data stays searchable in clear"
    with catalogue.sessions() as session:
        blobs = [filestore.blob_path(catalogue.settings.files_dir, row.sha256).read_bytes()
                 for row in session.query(StoredFile).filter(StoredFile.case_id == case_id)]
        assert blobs
        assert all(PDF not in blob and cipher.file_kid(blob) == "k0" for blob in blobs)
        first = session.query(StoredFile).filter(StoredFile.case_id == case_id).first()
        assert first is not None
        assert filestore.read_bytes(catalogue.settings, first) == PDF, "served in clear, checked against its hash"
    mine = client.get(f"/api/cases/{case_id}", headers=login("warga"))
    assert mine.status_code == 200
    assert NIK in mine.text, "the applicant reads their own NIK"
    assert search(client, login, NIK) == [case["tracking_number"]]
    assert search(client, login, "3471 0555 6667 7788") == [case["tracking_number"]]
    assert search(client, login, NIK[:8]) == [], "a part of a NIK finds nothing: it is sealed"
    hit = client.get("/api/cases/search", params={"q": NIK}, headers=login(FRONT)).json()["items"][0]
    assert hit["nik"] == "3471********7788", "the officer's list opens the sealed NIK, then masks it"
    # The case goes on: the TPA's task opens with the applicant's data behind it.
    assert task_of(client, login, case_id, "Task_tpa")


@pytest.fixture
def contexts(catalogue: AppContext, clock: FakeClock) -> Iterator[Callable[[str], AppContext]]:
    """Build more contexts on the same database and files, each with its own MPP_DATA_KEYS."""
    built: list[AppContext] = []

    def make(data_keys: str) -> AppContext:
        settings = catalogue.settings.model_copy(update={"data_keys": SecretStr(data_keys)})
        built.append(build_context(settings, migrate=False, clock=clock))
        return built[-1]

    yield make
    for ctx in built:
        ctx.engine.dispose()
    keys.install(keys.keyring_from(catalogue.settings))


def reads_everything(ctx: AppContext, case_id: int) -> None:
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        token = client.post("/api/auth/token", data={"username": "warga", "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        response = client.get(f"/api/cases/{case_id}", headers=headers)
        assert response.status_code == 200, response.text
        assert NIK in response.text
    with ctx.sessions() as session:
        assert ctx.rt.load_case(session, case_id).workflow.data()["nik"] == NIK
        for row in session.query(StoredFile).filter(StoredFile.case_id == case_id):
            assert filestore.read_bytes(ctx.settings, row) == PDF


def test_keys_rotate_without_downtime_and_a_wrong_key_fails_by_name(client: TestClient, login: Login,
                                                                     catalogue: AppContext,
                                                                     contexts: Callable[[str], AppContext]) -> None:
    case_id = int(file_case(client, login)["id"])
    # 1. Add a key in front of the derived one and deploy: old values still open, new ones use k1.
    added = contexts(f"k1:{KEY_1},k0")
    reads_everything(added, case_id)
    before = rotate.status(added.sessions, files_dir=added.settings.files_dir)
    assert set(before.values) == {"k0"}
    assert set(before.files) == {"k0"}
    # 2. Rotate: every value and file moves to k1, in batches; a second run has nothing left to do.
    done = rotate.rotate(added.sessions, files_dir=added.settings.files_dir, batch_size=1)
    assert done.cases >= 1
    assert done.values["k0"] == before.values["k0"]
    assert done.files["k0"] == before.files["k0"]
    after = rotate.status(added.sessions, files_dir=added.settings.files_dir)
    assert set(after.values) == {"k1"}
    assert set(after.files) == {"k1"}
    assert rotate.rotate(added.sessions, files_dir=added.settings.files_dir).cases == 0
    # 3. Remove the old key: everything still reads, the case still searches and moves on.
    only_new = contexts(f"k1:{KEY_1}")
    reads_everything(only_new, case_id)
    assert NIK.encode() not in raw_database(only_new)
    # A wrong key under the right id, or no key for the stored id: a clear error naming the key.
    wrong = contexts(f"k1:{KEY_2}")
    with wrong.sessions() as session, pytest.raises(cipher.SealBroken, match="key 'k1'"):
        session.get(Case, case_id)
    missing = contexts(f"k2:{KEY_2}")
    with missing.sessions() as session, pytest.raises(keys.KeyMissing, match="data key 'k1' is not configured"):
        missing.rt.load_case(session, case_id)
