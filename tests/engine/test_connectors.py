"""A package calls a partner over real HTTP with only connectors.toml and an admin binding: no Python."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from engine.catalogue.package import Package, from_files
from engine.connectors import bindings
from engine.connectors.spec import BUILT_IN_OPERATIONS, SpecInvalid, parse
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.errors import InvalidInput
from engine.lint.service import lint_package
from engine.models import AuditEntry, Incident, Job
from engine.runtime import build_runtime
from tests.conftest import FakeClock
from tests.factories import Driver, deploy, make_user
from tests.packages import AGENCY, FORM, SERVICE
from tests.simulators.partner import Partner

START_FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"nik": {"type": "string", "maxLength": 16}, "nama_pemohon": {"type": "string"},
                             "biaya": {"type": "integer", "minimum": 0}},
              "required": ["nik", "nama_pemohon", "biaya"]}
START = {"nik": "3471012345678901", "nama_pemohon": "Budi Santoso", "biaya": 1800000}

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_{key}" targetNamespace="http://mpp.test">
  <bpmn:collaboration id="Collab_{key}"><bpmn:participant id="Part_{key}" processRef="{key}"/></bpmn:collaboration>
  <bpmn:message id="Message_selesai" name="bpjs_tk_selesai"/>
  <bpmn:message id="Message_gagal" name="bpjs_tk_gagal"/>
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="Petugas [dinas.petugas]">
      <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_kirim</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Gateway_tunggu</bpmn:flowNodeRef><bpmn:flowNodeRef>Event_selesai</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Event_gagal</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_gagal</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Service_kirim"/>
    <bpmn:serviceTask id="Service_kirim" name="Kirim mutasi ke BPJS TK"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="{operation}" resultVariable="kirim"><spiffworkflow:parameters>
      <spiffworkflow:parameter id="keterangan" type="str" value="'mutasi'"/></spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_kirim" targetRef="Gateway_tunggu"/>
    <bpmn:eventBasedGateway id="Gateway_tunggu"><bpmn:incoming>Flow_2</bpmn:incoming>
      <bpmn:outgoing>Flow_3</bpmn:outgoing><bpmn:outgoing>Flow_4</bpmn:outgoing></bpmn:eventBasedGateway>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_tunggu" targetRef="Event_selesai"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Gateway_tunggu" targetRef="Event_gagal"/>
    <bpmn:intermediateCatchEvent id="Event_selesai" name="Mutasi tercatat"><bpmn:incoming>Flow_3</bpmn:incoming>
      <bpmn:outgoing>Flow_5</bpmn:outgoing><bpmn:messageEventDefinition id="Def_selesai" messageRef="Message_selesai">
      <bpmn:extensionElements><spiffworkflow:messageVariable>hasil</spiffworkflow:messageVariable>
      </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="Event_gagal" name="Mutasi ditolak"><bpmn:incoming>Flow_4</bpmn:incoming>
      <bpmn:outgoing>Flow_6</bpmn:outgoing><bpmn:messageEventDefinition id="Def_gagal" messageRef="Message_gagal">
      <bpmn:extensionElements><spiffworkflow:messageVariable>gagal</spiffworkflow:messageVariable>
      </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Event_selesai" targetRef="Task_periksa"/>
    <bpmn:userTask id="Task_periksa" name="Periksa"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_5</bpmn:incoming><bpmn:outgoing>Flow_7</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_7" sourceRef="Task_periksa" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_7</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_6" sourceRef="Event_gagal" targetRef="EndEvent_gagal"/>
    <bpmn:endEvent id="EndEvent_gagal" name="Ditolak BPJS"><bpmn:incoming>Flow_6</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

CONNECTORS = """
[operations."bpjs_tk.transfer"]
system = "bpjs_tk"
method = "POST"
path = "/peserta/{nik}/mutasi"
body = { nik = "nik", pemohon = { nama = "nama_pemohon" }, jumlah = "biaya", sumber = { value = "mpp" } }
timeout_s = 0.5
retries = 3
reply = "bpjs_tk_selesai"
error_reply = "bpjs_tk_gagal"
[operations."bpjs_tk.transfer".response]
nomor_mutasi = "/data/nomor"

[operations."bpjs_tk.strict"]
system = "bpjs_tk"
path = "/peserta/{nik}/mutasi"
retries = 1
reply = "bpjs_tk_selesai"
[operations."bpjs_tk.strict".response]
nomor_mutasi = "/data/nomor"
"""
SECRET = "rahasia-bpjs-123"


def connector_package(key: str = "mutasi", operation: str = "bpjs_tk.transfer",
                      connectors: str | None = CONNECTORS) -> Package:
    """Build a package: start, a service task calling `operation`, then wait for its reply or error reply."""
    files = {
        "service.toml": (SERVICE.format(key=key) + AGENCY).encode(),
        "process.bpmn": BPMN.format(key=key, operation=operation).encode(),
        "forms/periksa.schema.json": json.dumps(FORM).encode(),
        "forms/start.schema.json": json.dumps(START_FORM).encode(),
    }
    if connectors is not None:
        files["connectors.toml"] = connectors.encode()
    return from_files(files)


@pytest.fixture
def partner() -> Iterator[Partner]:
    with Partner() as server:
        yield server


@pytest.fixture
def officer(ctx: AppContext, partner: Partner) -> Actor:
    """Deploy the package, bind the partner as an admin would, and return an officer."""
    deploy(ctx, connector_package())
    with transaction(ctx.sessions) as session:
        bindings.set_binding(session, system="bpjs_tk", actor="admin",
                             change=bindings.BindingChange(partner.url, "bearer", None, SECRET),
                             key=ctx.settings.secret_key.get_secret_value())
    return make_user(ctx, "petugas1", "dinas.petugas")


def _job(ctx: AppContext, case_id: int) -> Job:
    with ctx.sessions() as session:
        return session.query(Job).filter_by(case_id=case_id, kind="outbound").one()


def test_a_described_call_sends_the_case_data_and_its_mapped_answer_lands_in_the_case(
        ctx: AppContext, partner: Partner, officer: Actor) -> None:
    d = Driver(ctx)
    partner.reply(200, {"data": {"nomor": "MUT-2026-001"}})
    case = d.start("mutasi", START, officer)
    d.run_jobs()
    row = d.case(case.id)
    assert row.data["hasil"] == {"nomor_mutasi": "MUT-2026-001"}
    assert d.open_ids(case.id) == ["Task_periksa"]
    [sent] = partner.received
    assert (sent.method, sent.path) == ("POST", "/peserta/3471012345678901/mutasi")
    assert sent.body == {"nik": "3471012345678901", "pemohon": {"nama": "Budi Santoso"}, "jumlah": 1800000,
                         "sumber": "mpp"}
    assert sent.headers["Authorization"] == f"Bearer {SECRET}"
    assert sent.headers["Idempotency-Key"] == row.data["kirim"]["ticket"]
    assert "sent" in [e.action for e in d.events(case.id)]
    assert _job(ctx, case.id).status == "done"


def test_a_timeout_is_retried_later_with_the_same_idempotency_key(
        ctx: AppContext, clock: FakeClock, partner: Partner, officer: Actor) -> None:
    d = Driver(ctx)
    partner.stall(2.0)
    partner.reply(200, {"data": {"nomor": "MUT-2"}})
    case = d.start("mutasi", START, officer)
    d.run_jobs()
    job = _job(ctx, case.id)
    assert job.status == "pending"
    assert "no answer within 0.5 s" in (job.last_error or "")
    assert "hasil" not in d.case(case.id).data
    d.run_jobs()  # not due yet: the backoff is job time, not an immediate loop
    assert len(partner.received) == 1
    clock.advance(seconds=31)
    d.run_jobs()
    assert d.case(case.id).data["hasil"] == {"nomor_mutasi": "MUT-2"}
    keys = {r.headers["Idempotency-Key"] for r in partner.received}
    assert len(partner.received) == 2
    assert keys == {d.case(case.id).data["kirim"]["ticket"]}


def test_a_5xx_is_retried_with_growing_backoff(
        ctx: AppContext, clock: FakeClock, partner: Partner, officer: Actor) -> None:
    d = Driver(ctx)
    partner.reply(503, {"error": "sibuk"})
    partner.reply(502, {"error": "gateway"})
    partner.reply(201, {"data": {"nomor": "MUT-3"}})
    case = d.start("mutasi", START, officer)
    started = clock.now
    d.run_jobs()
    assert (_job(ctx, case.id).due_at - started).total_seconds() == 30
    clock.advance(seconds=30)
    d.run_jobs()
    assert (_job(ctx, case.id).due_at - clock.now).total_seconds() == 60
    clock.advance(seconds=60)
    d.run_jobs()
    assert d.case(case.id).data["hasil"] == {"nomor_mutasi": "MUT-3"}
    assert len(partner.received) == 3


def test_a_refusal_goes_to_the_error_reply_with_the_partners_answer(
        ctx: AppContext, partner: Partner, officer: Actor) -> None:
    d = Driver(ctx)
    partner.reply(422, {"error": "NIK tidak terdaftar"})
    case = d.start("mutasi", START, officer)
    d.run_jobs()
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Ditolak BPJS")
    assert row.data["gagal"]["status"] == 422
    assert "NIK tidak terdaftar" in row.data["gagal"]["body"]
    assert len(partner.received) == 1  # a refusal is not retried


def test_exhausted_retries_go_to_the_error_reply(
        ctx: AppContext, clock: FakeClock, partner: Partner, officer: Actor) -> None:
    d = Driver(ctx)
    for _ in range(4):
        partner.reply(500, {"error": "rusak"})
    case = d.start("mutasi", START, officer)
    for _ in range(4):
        d.run_jobs()
        clock.advance(seconds=300)
    row = d.case(case.id)
    assert row.outcome == "Ditolak BPJS"
    assert row.data["gagal"]["status"] is None
    assert "4" in row.data["gagal"]["message"]
    assert len(partner.received) == 4  # the first try and three retries


def test_an_answer_that_fails_the_mapping_is_an_incident_naming_field_and_pointer(
        ctx: AppContext, partner: Partner) -> None:
    deploy(ctx, connector_package("ketat", operation="bpjs_tk.strict"))
    with transaction(ctx.sessions) as session:
        bindings.set_binding(session, system="bpjs_tk", actor="admin", change=bindings.BindingChange(partner.url),
                             key=ctx.settings.secret_key.get_secret_value())
    officer = make_user(ctx, "petugas2", "dinas.petugas")
    d = Driver(ctx)
    partner.reply(200, {"data": {"kode": "X"}})
    case = d.start("ketat", START, officer)
    d.run_jobs()
    assert d.case(case.id).status == "incident"
    with ctx.sessions() as session:
        incident = session.query(Incident).filter_by(case_id=case.id).one()
    assert "'/data/nomor'" in incident.message
    assert "'nomor_mutasi'" in incident.message
    assert '"kode"' in incident.message  # the partner's answer, for the operator
    assert "Authorization" not in partner.received[0].headers  # bound without a credential
    assert _job(ctx, case.id).status == "failed"


def test_an_unbound_system_is_retried_then_an_incident_not_a_silent_stall(
        ctx: AppContext, clock: FakeClock, partner: Partner) -> None:
    deploy(ctx, connector_package("lepas", operation="bpjs_tk.strict"))
    officer = make_user(ctx, "petugas3", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("lepas", START, officer)
    d.run_jobs()
    assert "not bound" in (_job(ctx, case.id).last_error or "")
    clock.advance(seconds=31)
    d.run_jobs()
    assert d.case(case.id).status == "incident"
    assert partner.received == []


def test_a_missing_binding_is_an_incident_even_when_the_package_has_an_error_reply(
        ctx: AppContext, clock: FakeClock, partner: Partner) -> None:
    deploy(ctx, connector_package())  # bpjs_tk.transfer has an error_reply, but nobody bound bpjs_tk
    officer = make_user(ctx, "petugas4", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("mutasi", START, officer)
    for _ in range(5):
        d.run_jobs()
        clock.advance(seconds=300)
    row = d.case(case.id)
    assert row.status == "incident"  # the operator's set-up, not "refused by BPJS" for the applicant
    assert row.outcome != "Ditolak BPJS"
    assert "gagal" not in row.data
    with ctx.sessions() as session:
        assert "not bound" in session.query(Incident).filter_by(case_id=case.id).one().message
    assert partner.received == []


def test_the_secret_is_sealed_at_rest_and_not_audited(ctx: AppContext, officer: Actor) -> None:
    with ctx.sessions() as session:
        [row] = bindings.list_bindings(session)
        audit = session.query(AuditEntry).filter_by(action="connector.bind").one()
    assert row.secret_sealed is not None
    assert SECRET not in row.secret_sealed
    assert SECRET not in json.dumps(audit.detail)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://partner.example", "gopher://x", "http://",
                                 "https://user:pw@partner.example", "https://partner.example/?next=x"])
def test_a_base_url_that_is_not_plain_http_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        bindings.check_base_url(url)


@pytest.mark.parametrize("path", ["//evil.example/x", "/a/../admin", "https://evil.example/x", "peserta",
                                  "/a\\b", "/x@evil.example"])
def test_a_path_that_could_leave_the_bound_host_is_refused(path: str) -> None:
    with pytest.raises(SpecInvalid, match="path"):
        parse(f'[operations."a.b"]\nsystem = "a"\npath = "{path}"\nreply = "r"\n'.replace("\\", "\\\\"))


def test_a_field_value_cannot_add_a_path_segment() -> None:
    from engine.connectors.http import CallRefused, render_path

    assert render_path("/peserta/{nik}", {"nik": "a/b?x=1#y"}) == "/peserta/a%2Fb%3Fx%3D1%23y"
    with pytest.raises(CallRefused):
        render_path("/peserta/{nik}", {"nik": ".."})


def test_the_built_in_operations_are_the_runtimes_adapters(ctx: AppContext) -> None:
    assert set(build_runtime(ctx.settings).adapters.adapters) == BUILT_IN_OPERATIONS


def test_lint_accepts_the_described_package() -> None:
    assert [p for p in lint_package(connector_package()) if p.severity == "error"] == []


def test_lint_names_an_operation_neither_built_in_nor_described() -> None:
    problems = lint_package(connector_package(operation="bpjs_tk.hilang"))
    [problem] = [p for p in problems if "neither built in" in p.message]
    assert (problem.file, problem.element_id, problem.severity) == ("process.bpmn", "Service_kirim", "error")
    assert problem.message_id


def test_lint_checks_fields_and_messages_of_the_description() -> None:
    broken = CONNECTORS.replace('jumlah = "biaya"', 'jumlah = "biaya_total"').replace(
        'error_reply = "bpjs_tk_gagal"', 'error_reply = "bpjs_tk_hilang"')
    problems = lint_package(connector_package(connectors=broken))
    texts = [p.message for p in problems if p.file == "connectors.toml" and p.severity == "error"]
    assert any("'biaya_total'" in t for t in texts), texts
    assert any("'bpjs_tk_hilang'" in t for t in texts), texts


def test_lint_reports_a_malformed_description() -> None:
    problems = lint_package(connector_package(connectors='[operations."bpjs_tk.transfer"]\nsystem = "BPJS"\n'))
    assert any(p.file == "connectors.toml" and "system" in p.message for p in problems)
