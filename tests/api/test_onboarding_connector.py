"""A partner whose service calls its own system joins by upload: connectors.toml and an admin binding, no Python.

The held-out package tests/data/partner_bpjs_tk/ (BPJS Ketenagakerjaan's JHT balance transfer) is
deployed through the API as docs/onboarding.md says; its automatic transfer step calls the partner
simulator (tests/simulators/partner.py) over real HTTP once an admin has bound `bpjs_tk`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.context import AppContext
from engine.models import Job
from tests.api.test_onboarding import _zip
from tests.conftest import FakeClock
from tests.factories import Driver
from tests.simulators.partner import Partner

Login = Callable[[str], dict[str, str]]
PARTNER = Path(__file__).resolve().parents[1] / "data" / "partner_bpjs_tk"
SECRET = "bpjs-tk-token-5c1e9a"
APPLICATION = {"nik": "3471012345678901", "nama_peserta": "Siti Rahayu", "kpj_lama": "09012345678",
               "kpj_aktif": "21098765432"}


@pytest.fixture
def partner() -> Iterator[Partner]:
    with Partner() as server:
        yield server


def _deploy(client: TestClient, login: Login) -> None:
    deployed = client.post("/api/processes", headers=login("analis"),
                           files={"files": ("bpjs_tk.zip", _zip(PARTNER), "application/zip")})
    assert deployed.status_code == 201, deployed.text
    assert deployed.json()["new_roles"] == ["bpjs_tk.petugas"]


def _bind(client: TestClient, login: Login, partner: Partner) -> None:
    body = {"base_url": partner.url, "auth_kind": "bearer", "secret": SECRET}
    bound = client.put("/api/connectors/bpjs_tk", headers=login("admin"), json=body)
    assert bound.status_code == 200, bound.text
    assert SECRET not in bound.text


def _officer(client: TestClient, login: Login) -> dict[str, str]:
    admin = login("admin")
    user = client.post("/api/users", headers=admin, json={"username": "bpjs_tk_petugas", "password": "sandi-bpjs-2026",
                                                          "platform_role": "officer"})
    assert user.status_code == 201, user.text
    granted = client.post(f"/api/users/{user.json()['id']}/memberships", headers=admin,
                          json={"role_key": "bpjs_tk.petugas"})
    assert granted.status_code == 201, granted.text
    token = client.post("/api/auth/token", data={"username": "bpjs_tk_petugas", "password": "sandi-bpjs-2026"})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _apply_and_verify(client: TestClient, login: Login, officer: dict[str, str]) -> int:
    """Apply as the citizen; the officer finds the verification in the inbox and approves it."""
    case = client.post("/api/cases", headers=login("warga"), json={
        "process_key": "pemindahbukuan_jht", "channel": "daring", "data": APPLICATION, "privacy_notice_accepted": True})
    assert case.status_code == 201, case.text
    inbox = client.get("/api/tasks", headers=officer).json()["items"]
    [task] = [t for t in inbox if t["case_id"] == case.json()["id"]]
    assert task["element_id"] == "Task_verifikasi"
    done = client.post(f"/api/tasks/{task['id']}/complete", headers=officer,
                       json={"data": {"hasil_verifikasi": "sesuai"}})
    assert done.status_code == 200, done.text
    return int(case.json()["id"])


def _case(client: TestClient, login: Login, case_id: int) -> dict[str, Any]:
    response = client.get(f"/api/cases/{case_id}", headers=login("admin"))
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


def test_the_transfer_step_calls_the_bound_partner_and_its_answer_completes_the_case(
        client: TestClient, login: Login, catalogue: AppContext, partner: Partner) -> None:
    _deploy(client, login)
    _bind(client, login, partner)
    officer = _officer(client, login)
    partner.reply(201, {"data": {"nomor": "PB-JHT-2026-000117", "status": "selesai"}})

    case_id = _apply_and_verify(client, login, officer)
    assert Driver(catalogue).run_jobs() >= 1

    [sent] = partner.received
    assert (sent.method, sent.path) == ("POST", "/peserta/3471012345678901/pemindahbukuan")
    assert sent.body == {"alasan": "penggabungan_kpj", "kpj_asal": "09012345678", "kpj_tujuan": "21098765432",
                         "peserta": {"nik": "3471012345678901", "nama": "Siti Rahayu"}, "kanal": "mpp"}
    assert sent.headers["Authorization"] == f"Bearer {SECRET}"
    case = _case(client, login, case_id)
    assert sent.headers["Idempotency-Key"] == case["data"]["kirim"]["ticket"]
    assert (case["status"], case["outcome"]) == ("completed", "Saldo JHT dipindahkan")
    assert case["data"]["transfer"] == {"nomor_pemindahbukuan": "PB-JHT-2026-000117", "status": "selesai"}
    history = client.get(f"/api/cases/{case_id}/events", headers=login("admin")).json()
    assert "sent" in [e["action"] for e in history]
    assert any("PB-JHT-2026-000117" in str(e["diff"]) for e in history), history

    partner.reply(422, {"error": "KPJ lama sudah pernah dipindahbukukan"})
    refused_id = _apply_and_verify(client, login, officer)
    Driver(catalogue).run_jobs()
    refused = _case(client, login, refused_id)
    assert (refused["status"], refused["outcome"]) == ("completed", "Ditolak sistem BPJS Ketenagakerjaan")
    assert refused["data"]["gagal"]["status"] == 422
    assert "sudah pernah dipindahbukukan" in refused["data"]["gagal"]["body"]
    assert "transfer" not in refused["data"]
    assert len(partner.received) == 2  # a refusal is not retried


def test_before_the_binding_the_package_deploys_and_the_call_waits_for_a_retry_not_a_silent_failure(
        client: TestClient, login: Login, catalogue: AppContext, clock: FakeClock, partner: Partner) -> None:
    _deploy(client, login)
    officer = _officer(client, login)
    case_id = _apply_and_verify(client, login, officer)
    Driver(catalogue).run_jobs()

    with catalogue.sessions() as session:
        job = session.query(Job).filter_by(case_id=case_id, kind="outbound").one()
    assert job.status == "pending"
    assert "not bound" in (job.last_error or "")
    assert _case(client, login, case_id)["status"] == "running"
    assert partner.received == []

    _bind(client, login, partner)  # the admin binds the system: the pending call goes out at its next try
    partner.reply(200, {"data": {"nomor": "PB-JHT-2026-000118", "status": "selesai"}})
    clock.advance(seconds=31)
    Driver(catalogue).run_jobs()
    case = _case(client, login, case_id)
    assert (case["status"], case["outcome"]) == ("completed", "Saldo JHT dipindahkan")
    assert case["data"]["transfer"]["nomor_pemindahbukuan"] == "PB-JHT-2026-000118"
    assert len(partner.received) == 1
