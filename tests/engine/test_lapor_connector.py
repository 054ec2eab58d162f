"""The complaint package forwards to SP4N-LAPOR! over real HTTP: the ticket, a refusal, a bad answer, retries.

processes/pengaduan's `lapor.teruskan` runs against the LAPOR!-like simulator (tests/simulators/lapor.py)
bound as the system `lapor`, as an admin would bind the real one. A failed forward is thrown as the
BPMN error LAPOR_GAGAL and lands with the complaints officer: never a 500, never a silent stall.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.catalogue.package import Package, from_files, from_path
from engine.connectors import bindings
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.models import ConnectorCall, Incident, Job
from tests.conftest import FakeClock
from tests.factories import ROOT, Driver, deploy, make_user
from tests.simulators.lapor import Lapor

PENGADUAN = ROOT / "processes" / "pengaduan"
COMPLAINT = {"nama_pelapor": "Bambang Wijaya", "telepon": "081228889900", "layanan": "Persetujuan Bangunan Gedung",
             "nomor_pelacakan": "MPP-AB12-CD34", "judul": "Penilaian TPA melewati batas waktu",
             "isi_pengaduan": "Berkas PBG saya lebih dari 25 hari kerja di tahap TPA tanpa kabar.", "rahasia": True}
FORWARD = {"keputusan_telaah": "teruskan_lapor", "instansi_terlapor": "Dinas PUPR Kota Yogyakarta"}


@pytest.fixture
def lapor() -> Iterator[Lapor]:
    with Lapor() as server:
        yield server


@pytest.fixture
def officer(ctx: AppContext) -> Actor:
    deploy(ctx, PENGADUAN)
    return make_user(ctx, "pengaduan1", "dpmptsp.pengaduan")


def bind(ctx: AppContext, system: str, url: str) -> None:
    """Bind a system to a simulator's base URL, as an admin does at /admin/integrasi."""
    with transaction(ctx.sessions) as session:
        bindings.set_binding(session, system=system, actor="admin", change=bindings.BindingChange(url),
                             key=ctx.settings.secret_key.get_secret_value())


def with_connectors(folder: str, **values: Any) -> Package:
    """The catalogue package with some keys of its connectors.toml changed (a short timeout for a test)."""
    files = dict(from_path(ROOT / "processes" / folder).files)
    lines = files["connectors.toml"].decode().splitlines()
    for key, value in values.items():
        lines = [f"{key} = {value}" if line.split("=")[0].strip() == key else line for line in lines]
    files["connectors.toml"] = "\n".join(lines).encode()
    return from_files(files)


def calls(ctx: AppContext, case_id: int) -> list[str]:
    """Return the outcomes of a case's partner calls, oldest first."""
    with ctx.sessions() as session:
        rows = session.query(ConnectorCall).filter_by(case_id=case_id).order_by(ConnectorCall.id)
        return [c.outcome for c in rows]


def outbound_job(ctx: AppContext, case_id: int) -> Job:
    with ctx.sessions() as session:
        return session.query(Job).filter_by(case_id=case_id, kind="outbound").one()


def _forwarded(ctx: AppContext, officer: Actor) -> tuple[Driver, int]:
    """File a complaint and let the officer forward it: the call to LAPOR! is queued."""
    d = Driver(ctx)
    case = d.start("pengaduan", COMPLAINT, make_user(ctx, "pelapor"), channel="daring")
    d.complete(case.id, "Task_telaah", officer, FORWARD)
    return d, case.id


def test_a_forwarded_complaint_gets_its_lapor_ticket(ctx: AppContext, lapor: Lapor, officer: Actor) -> None:
    bind(ctx, "lapor", lapor.url)
    d, case_id = _forwarded(ctx, officer)
    assert d.case(case_id).status == "running"
    assert d.open_ids(case_id) == []  # waiting for LAPOR!, nothing for a person to do
    d.run_jobs()

    [sent] = lapor.received
    assert (sent.method, sent.path) == ("POST", "/laporan")
    assert sent.body == {"judul": COMPLAINT["judul"], "isi": COMPLAINT["isi_pengaduan"],
                         "layanan": COMPLAINT["layanan"], "instansi": "Dinas PUPR Kota Yogyakarta", "rahasia": True,
                         "pelapor": {"nama": "Bambang Wijaya"}, "sumber": "MPP Kota Yogyakarta"}
    row = d.case(case_id)
    assert sent.headers["Idempotency-Key"] == row.data["kirim_lapor"]["ticket"]
    assert (row.status, row.outcome) == ("completed", "Pengaduan diteruskan ke SP4N-LAPOR!")
    assert (row.data["nomor_tiket_lapor"], row.data["status_lapor"]) == ("LAPOR-2026-0000001", "diterima")
    assert "lapor" not in row.data
    assert calls(ctx, case_id) == ["ok"]


def test_a_refusal_goes_back_to_the_officer_with_the_partners_answer(
        ctx: AppContext, lapor: Lapor, officer: Actor) -> None:
    bind(ctx, "lapor", lapor.url)
    lapor.malformed('{"error": "instansi terlapor tidak dikenal"}', status=422)
    d, case_id = _forwarded(ctx, officer)
    d.run_jobs()
    row = d.case(case_id)
    assert row.status == "running"
    assert [(t.element_id, t.role) for t in d.open_tasks(case_id)] == [("Task_tangani_manual", "dpmptsp.pengaduan")]
    assert row.data["lapor_gagal"]["status"] == 422
    assert "instansi terlapor tidak dikenal" in row.data["lapor_gagal"]["body"]
    assert "nomor_tiket_lapor" not in row.data
    assert len(lapor.received) == 1  # a refusal is not retried
    assert calls(ctx, case_id) == ["refused"]

    d.complete(case_id, "Task_tangani_manual", officer, {
        "penanganan_manual": "dimasukkan_manual", "nomor_tiket_lapor": "LAPOR-2026-0009001",
        "tanggapan": "Pengaduan kami masukkan langsung di lapor.go.id."})
    done = d.case(case_id)
    assert (done.status, done.outcome) == ("completed", "Pengaduan ditangani petugas")
    assert done.data["nomor_tiket_lapor"] == "LAPOR-2026-0009001"


def test_an_answer_without_a_ticket_fails_the_mapping_and_goes_to_the_officer(
        ctx: AppContext, lapor: Lapor, officer: Actor) -> None:
    bind(ctx, "lapor", lapor.url)
    lapor.malformed('{"data": {"status": "diterima"}}')
    d, case_id = _forwarded(ctx, officer)
    d.run_jobs()
    row = d.case(case_id)
    assert row.status == "running"
    assert d.open_ids(case_id) == ["Task_tangani_manual"]
    failure = row.data["lapor_gagal"]
    assert failure["status"] == 200
    assert "'/data/nomor_tiket'" in failure["message"]
    assert '"diterima"' in failure["body"]  # the partner's answer, for the officer
    assert calls(ctx, case_id) == ["refused"]


def test_a_5xx_is_retried_in_job_time_and_the_same_ticket_comes_back(
        ctx: AppContext, clock: FakeClock, lapor: Lapor, officer: Actor) -> None:
    bind(ctx, "lapor", lapor.url)
    lapor.fail(times=2)
    d, case_id = _forwarded(ctx, officer)
    started = clock.now
    d.run_jobs()
    assert (outbound_job(ctx, case_id).due_at - started).total_seconds() == 30
    d.run_jobs()  # not due yet: the backoff is job time, not a loop
    assert len(lapor.received) == 1
    clock.advance(seconds=30)
    d.run_jobs()
    assert (outbound_job(ctx, case_id).due_at - clock.now).total_seconds() == 60
    clock.advance(seconds=60)
    d.run_jobs()
    row = d.case(case_id)
    assert (row.status, row.data["nomor_tiket_lapor"]) == ("completed", "LAPOR-2026-0000001")
    assert len(lapor.received) == 3
    assert {r.headers["Idempotency-Key"] for r in lapor.received} == {row.data["kirim_lapor"]["ticket"]}
    assert calls(ctx, case_id) == ["retry", "retry", "ok"]


def test_timeouts_until_retries_run_out_go_to_the_officer(
        ctx: AppContext, clock: FakeClock, lapor: Lapor) -> None:
    deploy(ctx, with_connectors("pengaduan", timeout_s=0.3, retries=1))
    officer = make_user(ctx, "pengaduan2", "dpmptsp.pengaduan")
    bind(ctx, "lapor", lapor.url)
    lapor.stall(1.0)
    lapor.stall(1.0)
    d, case_id = _forwarded(ctx, officer)
    d.run_jobs()
    assert "no answer within 0.3 s" in (outbound_job(ctx, case_id).last_error or "")
    assert d.case(case_id).status == "running"
    clock.advance(seconds=31)
    d.run_jobs()
    row = d.case(case_id)
    assert row.status == "running"
    assert d.open_ids(case_id) == ["Task_tangani_manual"]
    assert row.data["lapor_gagal"]["status"] is None
    assert "2" in row.data["lapor_gagal"]["message"]  # the attempts it made
    assert calls(ctx, case_id) == ["retry", "failed"]
    with ctx.sessions() as session:
        assert session.query(Incident).filter_by(case_id=case_id).count() == 0


def test_an_unbound_lapor_is_the_operators_incident_not_the_complainants_answer(
        ctx: AppContext, clock: FakeClock, officer: Actor) -> None:
    d, case_id = _forwarded(ctx, officer)
    for _ in range(4):  # the first try and three retries
        d.run_jobs()
        clock.advance(seconds=300)
    row = d.case(case_id)
    assert row.status == "incident"  # not optional: the platform's set-up is missing, an operator fixes it
    assert "lapor_gagal" not in row.data
    with ctx.sessions() as session:
        assert "not bound" in session.query(Incident).filter_by(case_id=case_id).one().message
