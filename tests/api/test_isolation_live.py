"""A running `mpp serve` stays responsive while a case runs a resource bomb, and never runs it again.

The bombs are a package's script tasks: one C-level CPU bomb the language guards cannot interrupt
(comparing two huge shared structures), one memory bomb, and one that a timer sets off in the job
worker. While a bomb runs, another client's /healthz is answered; the
bomb's case is an incident; after a restart the worker does not run it again.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from engine.context import build_context
from engine.settings import Settings
from tests.engine.test_resource_bombs import _bomb_package, _script
from tests.engine.test_runtime_contract import END_EVENT, START, START_EVENT, timer_event, user_task
from tests.factories import deploy
from tests.live import serve

pytestmark = pytest.mark.slow

NEST = "a = [0] * 99999\nb = [0] * 99999\n" + "\n".join("a = [a, a]\nb = [b, b]" for _ in range(40)) + "\nr = a == b"
MEMORY = "a = [0] * 100000\nb = [" + ", ".join(["a"] * 1500) + "]\nc = list(zip(*b))"
PASSWORD = "demo12345"  # noqa: S105 - the demo accounts' password


@pytest.fixture
def database(catalogue_template_db: Path, tmp_path: Path) -> Path:
    """The catalogue database with three bomb services deployed."""
    path = tmp_path / "mpp.db"
    shutil.copy(catalogue_template_db, path)
    ctx = build_context(Settings(database_url=f"sqlite:///{path}", files_dir=tmp_path / "files"))
    deploy(ctx, _bomb_package("bom_cpu", [START_EVENT, _script("Script_bom", NEST), user_task(), END_EVENT]))
    deploy(ctx, _bomb_package("bom_memori", [START_EVENT, _script("Script_bom", MEMORY), user_task(), END_EVENT]))
    deploy(ctx, _bomb_package("bom_nanti", [START_EVENT, timer_event("timeDuration", "timedelta(seconds=1)"),
                                            _script("Script_bom", NEST), user_task(), END_EVENT]))
    ctx.engine.dispose()
    return path


def _token(base: str, username: str) -> str:
    response = httpx.post(f"{base}/api/auth/token", data={"username": username, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _apply(base: str, token: str, key: str, into: dict[str, Any]) -> None:
    response = httpx.post(f"{base}/api/cases", json={"process_key": key, "data": START, "channel": "daring",
                                                     "privacy_notice_accepted": True},
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    into["status"], into["body"] = response.status_code, response.json()


def _rows(path: Path, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


@pytest.mark.parametrize("key", ["bom_cpu", "bom_memori"])
def test_while_a_bomb_runs_others_are_answered_and_the_case_is_an_incident(
        database: Path, tmp_path: Path, key: str) -> None:
    with serve(database, tmp_path, database=database) as platform:
        base = platform.base
        token = _token(base, "warga")
        answer: dict[str, Any] = {}
        bomb = threading.Thread(target=_apply, args=(base, token, key, answer))
        bomb.start()
        time.sleep(0.1)  # the bomb's request is in the engine now
        # A server the bomb blocked would answer nobody until the bomb's request ended: count the health
        # checks answered while it still ran. How fast they are is measured in bench/, not here.
        answered_during_bomb = 0
        while bomb.is_alive():
            assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
            answered_during_bomb += bomb.is_alive()
        bomb.join()
        assert answered_during_bomb >= 1, "the server answered nobody else while the bomb ran"
        _token(base, "admin")  # and logging in works as before
        assert answer["status"] == 201, answer
        assert answer["body"]["status"] == "incident"
        [(element, message)] = _rows(database, "SELECT element_id, message FROM incident WHERE case_id = :c",
                                     c=answer["body"]["id"])
        assert element == "Script_bom"
        assert "operating system" in message or "memory" in message


def test_a_bomb_set_off_by_a_timer_is_an_incident_and_a_restart_does_not_run_it_again(
        database: Path, tmp_path: Path) -> None:
    with serve(database, tmp_path, database=database, embedded_worker=True) as platform:
        answer: dict[str, Any] = {}
        _apply(platform.base, _token(platform.base, "warga"), "bom_nanti", answer)
        assert answer["body"]["status"] == "running"
        case_id = answer["body"]["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if _rows(database, "SELECT status FROM case_record WHERE id = :c", c=case_id)[0][0] == "incident":
                break
            time.sleep(0.2)
        else:
            pytest.fail("the timer's bomb did not become an incident")
        assert httpx.get(f"{platform.base}/healthz", timeout=5).status_code == 200
    jobs = _rows(database, "SELECT status, attempts FROM job WHERE case_id = :c AND kind = 'timer'", c=case_id)
    assert jobs == [("done", 1)]
    with serve(database, tmp_path, database=database, embedded_worker=True):
        time.sleep(2)  # several polls of the worker
    assert _rows(database, "SELECT count(*) FROM incident WHERE case_id = :c", c=case_id) == [(1,)]
    assert _rows(database, "SELECT status, attempts FROM job WHERE case_id = :c AND kind = 'timer'",
                 c=case_id) == [("done", 1)]
