"""Operations over HTTP: Prometheus metrics, request ids, JSON logs; `mpp serve` as a real process."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.logs import JsonFormatter
from engine.catalogue import registry as registry
from engine.context import AppContext
from engine.db import transaction
from engine.models import Job
from tests.conftest import ROOT, FakeClock
from tests.factories import pbg_application, pbg_documents

Login = Callable[[str], dict[str, str]]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    """Scrape /metrics and return every sample by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def apply(client: TestClient, login: Login) -> dict[str, str]:
    response = client.post("/api/cases", json={"process_key": "pbg", "data": pbg_application(), "channel": "daring",
                                               "documents": pbg_documents(client, login("warga")),
                                               "privacy_notice_accepted": True},
                           headers=login("warga"))
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def lines() -> Iterator[Callable[[str], list[dict[str, object]]]]:
    """Install the JSON formatter on the platform's loggers; return a reader of one logger's lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("mpp.access", "mpp.api")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)

    def read(name: str) -> list[dict[str, object]]:
        docs = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [doc for doc in docs if doc["logger"] == name]

    yield read
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


# --- metrics ---------------------------------------------------------------------------------------

def test_requests_are_counted_by_route_template_not_by_path(client: TestClient, login: Login) -> None:
    case_id = apply(client, login)["id"]
    before = sample(scrape(client), "mpp_http_requests_total", method="GET", route="/api/cases/{case_id}",
                    status="200") or 0
    assert client.get(f"/api/cases/{case_id}", headers=login("admin")).status_code == 200
    assert client.get("/api/no-such-thing").status_code == 404
    assert client.request("BREW", f"/api/cases/{case_id}").status_code == 405
    samples = scrape(client)
    assert sample(samples, "mpp_http_requests_total", method="GET", route="/api/cases/{case_id}",
                  status="200") == before + 1
    assert (sample(samples, "mpp_http_request_duration_seconds_count", method="GET", route="/api/cases/{case_id}",
                   status="200") or 0) >= 1
    assert (sample(samples, "mpp_http_requests_total", method="GET", route="unmatched", status="404") or 0) >= 1
    routes = {dict(labels).get("route") for (name, labels) in samples if name == "mpp_http_requests_total"}
    assert not any(re.search(r"/\d+(/|$)", route or "") for route in routes), routes
    assert "/api/no-such-thing" not in routes
    methods = {dict(labels)["method"] for (name, labels) in samples if name == "mpp_http_requests_total"}
    assert "BREW" not in methods
    assert "other" in methods


def test_case_and_task_gauges_come_from_the_database(client: TestClient, login: Login, clock: FakeClock) -> None:
    assert sample(scrape(client), "mpp_cases", process_key="pbg", status="running") is None
    assert sample(scrape(client), "mpp_open_tasks", agency="dpmptsp") == 0
    apply(client, login)
    samples = scrape(client)
    assert sample(samples, "mpp_cases", process_key="pbg", status="running") == 1
    assert sample(samples, "mpp_open_tasks", agency="dpmptsp") == 1
    assert sample(samples, "mpp_overdue_tasks", agency="dpmptsp") == 0
    clock.advance(days=30)  # far past the front office's SLA, though no worker has flagged it yet
    assert sample(scrape(client), "mpp_overdue_tasks", agency="dpmptsp") == 1


def test_job_gauges_count_jobs_and_the_lag_of_the_oldest_due_one(client: TestClient, catalogue: AppContext,
                                                                  clock: FakeClock) -> None:
    assert sample(scrape(client), "mpp_job_lag_seconds") == 0
    with transaction(catalogue.sessions) as session:
        session.add_all([Job(kind="overdue_scan", due_at=clock.now - timedelta(seconds=90), status="pending"),
                         Job(kind="overdue_scan", due_at=clock.now + timedelta(hours=1), status="pending"),
                         Job(kind="timer", due_at=clock.now - timedelta(days=3), status="failed")])
    samples = scrape(client)
    assert sample(samples, "mpp_job_lag_seconds") == 90
    assert sample(samples, "mpp_jobs", kind="overdue_scan", status="pending") == 2
    assert sample(samples, "mpp_jobs", kind="timer", status="failed") == 1


def test_metrics_need_no_login_and_show_no_personal_data(client: TestClient, login: Login) -> None:
    case = apply(client, login)
    users = client.get("/api/users", headers=login("admin")).json()
    response = client.get("/metrics")
    assert response.status_code == 200
    body = response.text
    data = pbg_application()
    for secret in (data["nik"], data["email"], data["nama_pemohon"], data["telepon"], case["tracking_number"]):
        assert secret not in body
    for user in users:
        for personal in (user["email"], user["display_name"]):
            if personal:
                assert personal not in body
    values = {value for family in text_string_to_metric_families(body) for s in family.samples
              for value in s.labels.values()}
    assert not values & {user["username"] for user in users}


# --- request ids and logs -------------------------------------------------------------------------

def test_a_sane_request_id_is_echoed_and_any_other_replaced(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.92_x"})
    assert given.headers["X-Request-ID"] == "lb-7f3a.92_x"
    made = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    assert made.headers["X-Request-ID"] != client.get("/healthz").headers["X-Request-ID"]
    for insane in (b"a b", b"<script>", b"x" * 65, "ü".encode(), b"a\\n"):
        response = client.get("/healthz", headers={"X-Request-ID": insane})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"]), insane


def test_errors_stay_problem_json_and_carry_the_request_id(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                           lines: Callable[[str], list[dict[str, object]]]) -> None:
    missing = client.get("/api/processes/nothing", headers={"X-Request-ID": "req-404"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["X-Request-ID"] == "req-404"

    def explode(session: object) -> list[object]:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(registry, "latest_versions", explode)
    broken = client.get("/api/processes", headers={"X-Request-ID": "req-500"})
    assert broken.status_code == 500
    assert broken.headers["content-type"] == "application/problem+json"
    assert broken.json()["type"] == "/api/problems/internal"
    assert broken.headers["X-Request-ID"] == "req-500"
    [error] = lines("mpp.api")
    assert error["request_id"] == "req-500"
    assert error["level"] == "ERROR"
    assert "RuntimeError: kaboom" in str(error["exc_info"])
    access = [doc for doc in lines("mpp.access") if doc["request_id"] == "req-500"]
    assert [(doc["path"], doc["status"]) for doc in access] == [("/api/processes", 500)]


def test_each_request_writes_one_json_access_line_with_its_id(client: TestClient, login: Login,
                                                              lines: Callable[[str], list[dict[str, object]]]) -> None:
    headers = {**login("warga"), "X-Request-ID": "trace-42"}
    documents = pbg_documents(client, login("warga"))
    response = client.post("/api/cases", json={"process_key": "pbg", "data": pbg_application(), "channel": "daring",
                                               "documents": documents, "privacy_notice_accepted": True},
                           headers=headers)
    assert response.status_code == 201, response.text
    [line] = [doc for doc in lines("mpp.access") if doc["request_id"] == "trace-42"]
    assert line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/api/cases", 201)
    assert isinstance(line["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", str(line["time"]))
    # The transaction committed before the response left: the case is there for the next request.
    assert client.get(f"/api/cases/{response.json()['id']}", headers=login("warga")).status_code == 200


def test_tracking_pins_in_the_query_never_reach_the_access_log(
        client: TestClient, login: Login, lines: Callable[[str], list[dict[str, object]]]) -> None:
    case = apply(client, login)
    assert client.get(f"/api/track/{case['tracking_number']}", params={"pin": case["pin"]}).status_code == 200
    [line] = [doc for doc in lines("mpp.access") if str(doc["path"]).startswith("/api/track/")]
    assert case["pin"] not in json.dumps(line)


def test_logging_is_json_only_once_set_up(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import logging
        import api.app, api.cli  # importing installs nothing
        assert logging.getLogger().handlers == [], logging.getLogger().handlers
        from api.logs import setup_logging
        setup_logging()
        try:
            raise ValueError("bad")
        except ValueError:
            logging.getLogger("mpp.jobs").exception("job %s failed\\nsecond line", 7)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MPP_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, check=False)
    assert done.returncode == 0, done.stderr
    [line] = done.stderr.strip().splitlines()
    doc = json.loads(line)
    assert doc["logger"] == "mpp.jobs"
    assert doc["message"] == "job 7 failed\nsecond line"
    assert "ValueError: bad" in doc["exc_info"]
    assert "request_id" not in doc


# --- `mpp serve` as a real process ----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "mpp serve exited early"
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("mpp serve did not come up")


def test_mpp_serve_with_workers_logs_json_and_sums_metrics_over_its_processes(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "MPP_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as err:
        process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2",
                                    "--no-embedded-worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=err, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base, process)
            for n in range(12):  # new connections: the kernel spreads them over both processes
                response = httpx.get(f"{base}/healthz", headers={"X-Request-ID": f"probe-{n}"}, timeout=5)
                assert response.headers["X-Request-ID"] == f"probe-{n}"
            body = httpx.get(f"{base}/metrics", timeout=5).text
        finally:
            process.terminate()
            process.wait(timeout=30)
    counts = {s.labels["status"]: s.value for family in text_string_to_metric_families(body)
              for s in family.samples
              if s.name == "mpp_http_requests_total" and s.labels["route"] == "/healthz"}
    assert counts == {"200": 12}, body
    assert "process_resident_memory_bytes" not in body  # the multi-process collector answered, not one process's
    docs = [json.loads(line) for line in stderr.read_text().splitlines() if line.startswith("{")]
    assert len(docs) == len(stderr.read_text().splitlines()), stderr.read_text()
    probes = [doc for doc in docs if doc["logger"] == "mpp.access" and str(doc.get("request_id")).startswith("probe-")]
    assert len(probes) == 12
    assert {doc["status"] for doc in probes} == {200}
