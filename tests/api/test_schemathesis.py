"""Property-based API testing against the OpenAPI document: no 5xx, every response fits its schema."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.bootstrap import DEMO_PASSWORD, deploy_folder, seed_demo
from engine.context import build_context
from engine.db import transaction
from engine.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
_tmp = tempfile.mkdtemp(prefix="mpp-schemathesis-")
_ctx = build_context(Settings(database_url=f"sqlite:///{_tmp}/api.db", processes_dir=ROOT / "processes"))
with transaction(_ctx.sessions) as _session:
    deploy_folder(_session, ROOT / "processes")
    seed_demo(_session)
app = create_app(_ctx)
# The task feed streams until its token expires (tests/api/test_feed.py reads it over real HTTP).
schema = schemathesis.openapi.from_asgi("/api/openapi.json", app).exclude(path="/api/tasks/feed")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _token(username: str) -> dict[str, str]:
    with TestClient(app) as client:
        response = client.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


ADMIN = _token("admin")


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_as_admin(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=ADMIN, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_anonymous(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
