"""The case page and the public tracking page say when the SLA clock stands still, and the working days used."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.context import AppContext
from engine.directory.actors import actor_for
from engine.models import User
from tests.engine.test_sla_clock import clock_package
from tests.factories import Driver, deploy, make_user

Login = Callable[[str], str]
pytestmark = pytest.mark.postgres


def test_a_paused_case_says_so_on_the_case_page_and_the_tracking_page(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    deploy(catalogue, clock_package())
    officer = make_user(catalogue, "petugas_uji", "dinas.petugas")
    with catalogue.sessions() as session:
        user = session.scalar(select(User).where(User.username == "warga"))
        assert user is not None
        applicant = actor_for(session, user)
    d = Driver(catalogue)
    case = d.start("jeda", {"harga": 1, "jumlah": 1}, applicant, channel="daring")

    page_login("admin")
    running = client.get(f"/kasus/{case.id}").text
    assert "Waktu layanan berhenti sementara" not in running
    assert 'id="sla-used"' in running
    assert 'id="sla-left"' in running

    d.complete(case.id, "Task_periksa", officer, {"lengkap": "tidak"})
    paused = client.get(f"/kasus/{case.id}")
    assert paused.status_code == 200
    assert "Waktu layanan berhenti sementara: menunggu pemohon" in paused.text
    assert "SLA paused: waiting for the applicant" in client.get(f"/kasus/{case.id}?lang=en").text

    page_login("warga")
    tracking = client.get(f"/lacak/{case.tracking_number}")
    assert tracking.status_code == 200
    assert "Waktu layanan berhenti sementara: menunggu pemohon" in tracking.text
    assert "Hari kerja terpakai" in tracking.text
    assert "(tidak berkurang selama berhenti)" in tracking.text
