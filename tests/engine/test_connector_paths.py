"""A partner's failure as a boundary error event, and optional integrations a city may not have."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from engine.cases.messages import deliver_error
from engine.catalogue import scenarios
from engine.catalogue.package import Package, from_files
from engine.connectors import bindings
from engine.connectors.spec import SpecInvalid, parse
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import SYSTEM, Actor
from engine.errors import InvalidInput
from engine.lint.service import lint_package
from engine.models import ConnectorCall, Job
from engine.settings import Settings
from tests.conftest import FakeClock
from tests.factories import Driver, deploy, make_user
from tests.packages import AGENCY, FORM, SERVICE
from tests.simulators.partner import Partner

START_FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"nik": {"type": "string", "maxLength": 16}, "keluhan": {"type": "string"}},
              "required": ["nik", "keluhan"]}
START = {"nik": "3471012345678901", "keluhan": "Antrean terlalu lama"}

# Service task -> receive task waiting for the reply, with a boundary error event for the partner's failure.
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_{key}" targetNamespace="http://mpp.test">
  <bpmn:collaboration id="Collab_{key}"><bpmn:participant id="Part_{key}" processRef="{key}"/></bpmn:collaboration>
  <bpmn:message id="Message_diterima" name="lapor_diterima"/>
  <bpmn:error id="Error_gagal" name="Laporan gagal diteruskan" errorCode="LAPOR_GAGAL">
    <bpmn:extensionElements><spiffworkflow:variableName>galat</spiffworkflow:variableName></bpmn:extensionElements>
  </bpmn:error>
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="Petugas [dinas.petugas]">
      <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_teruskan</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Receive_tiket</bpmn:flowNodeRef><bpmn:flowNodeRef>Boundary_gagal</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_tangani</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_manual</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Service_teruskan"/>
    <bpmn:serviceTask id="Service_teruskan" name="Teruskan ke LAPOR!"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="lapor.teruskan" resultVariable="kirim"/></bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_teruskan" targetRef="Receive_tiket"/>
    <bpmn:receiveTask id="Receive_tiket" name="Tunggu tiket LAPOR!" messageRef="Message_diterima">
      <bpmn:extensionElements><spiffworkflow:messageVariable>tiket</spiffworkflow:messageVariable>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing></bpmn:receiveTask>
    <bpmn:boundaryEvent id="Boundary_gagal" name="Gagal diteruskan" attachedToRef="Receive_tiket">
      <bpmn:outgoing>Flow_4</bpmn:outgoing><bpmn:errorEventDefinition id="Def_gagal" errorRef="Error_gagal"/>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Receive_tiket" targetRef="Task_periksa"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Boundary_gagal" targetRef="Task_tangani"/>
    <bpmn:userTask id="Task_periksa" name="Periksa"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_3</bpmn:incoming><bpmn:outgoing>Flow_5</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Task_tangani" name="Tangani manual"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_4</bpmn:incoming><bpmn:outgoing>Flow_6</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Task_periksa" targetRef="EndEvent_1"/>
    <bpmn:sequenceFlow id="Flow_6" sourceRef="Task_tangani" targetRef="EndEvent_manual"/>
    <bpmn:endEvent id="EndEvent_1" name="Diteruskan"><bpmn:incoming>Flow_5</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="EndEvent_manual" name="Ditangani manual"><bpmn:incoming>Flow_6</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

CONNECTORS = """
[operations."lapor.teruskan"]
system = "lapor"
path = "/laporan"
body = {{ nik = "nik", isi = "keluhan" }}
retries = {retries}
reply = "lapor_diterima"
error_event = "{code}"
optional = {optional}
[operations."lapor.teruskan".response]
nomor_tiket = "/data/nomor_tiket"
"""


TIMER = ('<bpmn:boundaryEvent id="Boundary_waktu" attachedToRef="Receive_tiket"><bpmn:outgoing>Flow_7</bpmn:outgoing>'
         '<bpmn:timerEventDefinition><bpmn:timeDuration>"P3D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
         '</bpmn:boundaryEvent><bpmn:sequenceFlow id="Flow_7" sourceRef="Boundary_waktu" targetRef="Task_tangani"/>')


def _with_timer(text: str) -> str:
    """Give the wait for the reply a timer way out: after 3 days the officer handles it by hand."""
    text = text.replace("</bpmn:process>", TIMER + "</bpmn:process>")
    text = text.replace('<bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>',
                        '<bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Boundary_waktu</bpmn:flowNodeRef>')
    return text.replace('<bpmn:incoming>Flow_4</bpmn:incoming><bpmn:outgoing>Flow_6</bpmn:outgoing>',
                        '<bpmn:incoming>Flow_4</bpmn:incoming><bpmn:incoming>Flow_7</bpmn:incoming>'
                        '<bpmn:outgoing>Flow_6</bpmn:outgoing>')


def package(key: str, *, code: str = "LAPOR_GAGAL", optional: bool = False, retries: int = 1,
            timer: bool = False) -> Package:
    """The complaint-forwarding package with the given error code and optionality."""
    diagram = BPMN.format(key=key)
    return from_files({
        "service.toml": (SERVICE.format(key=key) + AGENCY).encode(),
        "process.bpmn": (_with_timer(diagram) if timer else diagram).encode(),
        "forms/periksa.schema.json": json.dumps(FORM).encode(),
        "forms/start.schema.json": json.dumps(START_FORM).encode(),
        "connectors.toml": CONNECTORS.format(code=code, optional=str(optional).lower(), retries=retries).encode(),
    })


@pytest.fixture
def partner() -> Iterator[Partner]:
    with Partner() as server:
        yield server


def _bind(ctx: AppContext, url: str) -> None:
    _bind_system(ctx, "lapor", url)


def _bind_system(ctx: AppContext, system: str, url: str) -> None:
    with transaction(ctx.sessions) as session:
        bindings.set_binding(session, system=system, actor="admin", change=bindings.BindingChange(url),
                             key=ctx.settings.secret_key.get_secret_value())


def _officer(ctx: AppContext, name: str) -> Actor:
    return make_user(ctx, name, "dinas.petugas")


def _calls(ctx: AppContext, case_id: int) -> list[str]:
    with ctx.sessions() as session:
        return [c.outcome for c in session.query(ConnectorCall).filter_by(case_id=case_id).order_by(ConnectorCall.id)]


def test_a_refusal_is_thrown_as_the_boundary_error_with_the_partners_answer(
        ctx: AppContext, partner: Partner) -> None:
    deploy(ctx, package("aduan"))
    _bind(ctx, partner.url)
    d = Driver(ctx)
    partner.reply(422, {"error": "kategori tidak dikenal"})
    case = d.start("aduan", START, _officer(ctx, "petugas1"))
    d.run_jobs()
    row = d.case(case.id)
    assert row.status == "running"
    assert d.open_ids(case.id) == ["Task_tangani"]
    assert row.data["galat"]["status"] == 422
    assert "kategori tidak dikenal" in row.data["galat"]["body"]
    assert "error_received" in [e.action for e in d.events(case.id)]
    assert _calls(ctx, case.id) == ["refused"]


def test_exhausted_retries_are_thrown_as_the_boundary_error(
        ctx: AppContext, clock: FakeClock, partner: Partner) -> None:
    deploy(ctx, package("aduan2", retries=1))
    _bind(ctx, partner.url)
    d = Driver(ctx)
    partner.reply(503, {"error": "sibuk"})
    partner.reply(503, {"error": "sibuk"})
    case = d.start("aduan2", START, _officer(ctx, "petugas2"))
    d.run_jobs()
    clock.advance(seconds=31)
    d.run_jobs()
    assert d.open_ids(case.id) == ["Task_tangani"]
    assert d.case(case.id).data["galat"]["status"] is None
    assert _calls(ctx, case.id) == ["retry", "failed"]


def test_the_success_path_is_unchanged_by_an_error_event(ctx: AppContext, partner: Partner) -> None:
    deploy(ctx, package("aduan3"))
    _bind(ctx, partner.url)
    d = Driver(ctx)
    partner.reply(201, {"data": {"nomor_tiket": "LAPOR-77"}})
    case = d.start("aduan3", START, _officer(ctx, "petugas3"))
    d.run_jobs()
    assert d.open_ids(case.id) == ["Task_periksa"]
    assert d.case(case.id).data["tiket"] == {"nomor_tiket": "LAPOR-77"}


def test_an_error_no_waiting_boundary_catches_is_refused_and_changes_nothing(
        ctx: AppContext, partner: Partner) -> None:
    deploy(ctx, package("aduan4"))
    _bind(ctx, partner.url)
    d = Driver(ctx)
    partner.reply(201, {"data": {"nomor_tiket": "LAPOR-76"}})
    case = d.start("aduan4", START, _officer(ctx, "petugas4"))
    d.run_jobs()  # the reply came: the case waits at Task_periksa, no longer for the partner
    with pytest.raises(InvalidInput, match="LAPOR_GAGAL"), transaction(ctx.sessions) as session:
        deliver_error(session, rt=ctx.rt, case_id=case.id, code="LAPOR_GAGAL", payload={}, actor=SYSTEM)
    assert d.open_ids(case.id) == ["Task_periksa"]
    assert "galat" not in d.case(case.id).data


def test_an_optional_operation_of_an_unbound_system_is_skipped_and_said(ctx: AppContext, partner: Partner) -> None:
    deploy(ctx, package("aduan5", optional=True, timer=True))
    d = Driver(ctx)
    case = d.start("aduan5", START, _officer(ctx, "petugas5"))
    d.run_jobs()
    row = d.case(case.id)
    assert row.status == "running"  # no incident: the city has no LAPOR! integration
    assert partner.received == []
    assert _calls(ctx, case.id) == ["skipped"]
    notes = [e.label for e in d.events(case.id) if e.action == "note"]
    assert any("lapor belum terhubung" in (label or "") for label in notes)
    with ctx.sessions() as session:
        assert session.query(Job).filter_by(case_id=case.id, kind="outbound").one().status == "done"


def test_an_optional_operation_of_a_bound_system_calls_it(ctx: AppContext, partner: Partner) -> None:
    deploy(ctx, package("aduan6", optional=True, timer=True))
    _bind(ctx, partner.url)
    d = Driver(ctx)
    partner.reply(200, {"data": {"nomor_tiket": "LAPOR-78"}})
    case = d.start("aduan6", START, _officer(ctx, "petugas6"))
    d.run_jobs()
    assert d.case(case.id).data["tiket"] == {"nomor_tiket": "LAPOR-78"}
    assert len(partner.received) == 1


@pytest.mark.parametrize(("extra", "problem"), [
    ('error_reply = "x"\nerror_event = "KODE"', "not both"),
    ('error_event = "bad code!"', "error_event must be an error code"),
    ('optional = "ya"', "optional must be true or false"),
])
def test_the_new_keys_are_checked(extra: str, problem: str) -> None:
    text = f'[operations."a.b"]\nsystem = "a"\npath = "/x"\nreply = "r"\n{extra}\n'
    with pytest.raises(SpecInvalid) as caught:
        parse(text)
    assert any(problem in p for p in caught.value.problems)


def _errors(pkg: Package) -> list[tuple[str | None, str]]:
    return [(p.element_id, p.message) for p in lint_package(pkg) if p.severity == "error"]


def test_lint_accepts_an_error_event_its_boundary_catches() -> None:
    assert _errors(package("lint1")) == []


def test_lint_names_an_error_event_no_boundary_catches() -> None:
    [(element, message)] = _errors(package("lint2", code="KODE_LAIN"))
    assert element == "Receive_tiket"
    assert "KODE_LAIN" in message
    assert 'errorCode="KODE_LAIN"' in message


def test_lint_refuses_an_optional_reply_waited_for_in_the_main_flow() -> None:
    [(element, message)] = _errors(package("lint3", optional=True))
    assert element == "Receive_tiket"
    assert 'store = "<field>"' in message


def test_lint_accepts_an_optional_reply_a_timer_can_end() -> None:
    assert _errors(package("lint4", optional=True, timer=True)) == []


# ---------------------------------------------------------------- store: the answer written into a case field

STORE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_{key}" targetNamespace="http://mpp.test">
  <bpmn:collaboration id="Collab_{key}"><bpmn:participant id="Part_{key}" processRef="{key}"/></bpmn:collaboration>
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="Petugas [dinas.petugas]">
      <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_daftar</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_akhir</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Service_daftar"/>
    <bpmn:serviceTask id="Service_daftar" name="Daftarkan ke SIMBG"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="simbg.daftar" resultVariable="kirim"/></bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_daftar" targetRef="Task_periksa"/>
    <bpmn:userTask id="Task_periksa" name="Periksa"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_periksa" targetRef="Task_akhir"/>
    <bpmn:userTask id="Task_akhir" name="Akhir"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_3</bpmn:incoming><bpmn:outgoing>Flow_4</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_akhir" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

STORE_CONNECTORS = """
[operations."simbg.daftar"]
system = "simbg"
path = "/pbg/registrasi"
body = { nik = "nik" }
retries = 0
store = "simbg"
optional = true
[operations."simbg.daftar".response]
nomor_registrasi = "/data/nomor_registrasi"
"""


def store_package(key: str, connectors: str = STORE_CONNECTORS) -> Package:
    """A service task whose answer is stored into the case field `simbg`; the flow never waits for it."""
    return from_files({
        "service.toml": (SERVICE.format(key=key) + AGENCY).encode(),
        "process.bpmn": STORE_BPMN.format(key=key).encode(),
        "forms/periksa.schema.json": json.dumps(FORM).encode(),
        "forms/start.schema.json": json.dumps(START_FORM).encode(),
        "connectors.toml": connectors.encode(),
    })


def test_a_stored_answer_reaches_the_case_data_and_every_later_step(ctx: AppContext, partner: Partner) -> None:
    deploy(ctx, store_package("simpan1"))
    _bind_system(ctx, "simbg", partner.url)
    officer = _officer(ctx, "petugas7")
    d = Driver(ctx)
    partner.reply(201, {"data": {"nomor_registrasi": "SIMBG-001"}})
    case = d.start("simpan1", START, officer)
    assert d.open_ids(case.id) == ["Task_periksa"]  # the flow did not wait for SIMBG
    d.run_jobs()
    assert d.case(case.id).data["simbg"] == {"nomor_registrasi": "SIMBG-001"}
    assert "answer_stored" in [e.action for e in d.events(case.id)]
    ctx.rt.cases.clear()  # the next step loads the case from its stored rows, not from memory
    d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"})
    d.complete(case.id, "Task_akhir", officer, {"catatan": "selesai"})
    row = d.case(case.id)
    assert row.status == "completed"
    assert row.data["simbg"] == {"nomor_registrasi": "SIMBG-001"}


def test_a_refused_stored_call_stores_the_failure_without_an_incident(ctx: AppContext, partner: Partner) -> None:
    deploy(ctx, store_package("simpan2"))
    _bind_system(ctx, "simbg", partner.url)
    d = Driver(ctx)
    partner.reply(422, {"error": "NIK wajib"})
    case = d.start("simpan2", START, _officer(ctx, "petugas8"))
    d.run_jobs()
    row = d.case(case.id)
    assert row.status == "running"
    assert row.data["simbg"]["galat"]["status"] == 422
    assert "NIK wajib" in row.data["simbg"]["galat"]["body"]


def test_an_answer_after_the_case_ended_is_kept_in_its_history(ctx: AppContext, partner: Partner) -> None:
    deploy(ctx, store_package("simpan3"))
    _bind_system(ctx, "simbg", partner.url)
    officer = _officer(ctx, "petugas9")
    d = Driver(ctx)
    partner.reply(201, {"data": {"nomor_registrasi": "SIMBG-003"}})
    case = d.start("simpan3", START, officer)
    d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"})
    d.complete(case.id, "Task_akhir", officer, {"catatan": "selesai"})
    d.run_jobs()
    assert "simbg" not in d.case(case.id).data
    [kept] = [e for e in d.events(case.id) if e.action == "note" and "simbg.daftar" in (e.label or "")]
    assert kept.diff == {"set": {"simbg": {"nomor_registrasi": "SIMBG-003"}}}


def test_an_unbound_optional_stored_call_is_skipped_and_the_case_goes_on(ctx: AppContext) -> None:
    deploy(ctx, store_package("simpan4"))
    officer = _officer(ctx, "petugas10")
    d = Driver(ctx)
    case = d.start("simpan4", START, officer)
    d.run_jobs()
    assert "simbg" not in d.case(case.id).data
    assert _calls(ctx, case.id) == ["skipped"]
    d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"})
    d.complete(case.id, "Task_akhir", officer, {"catatan": "selesai"})
    assert d.case(case.id).status == "completed"


@pytest.mark.parametrize(("connectors", "problem"), [
    (STORE_CONNECTORS.replace('store = "simbg"', 'store = "simbg"\nreply = "r"'), "one of them"),
    (STORE_CONNECTORS.replace("optional = true", 'error_event = "X"'), "a stored answer has no error_reply"),
    (STORE_CONNECTORS.replace('store = "simbg"', 'store = "bukan isian"'), "store must name a case field"),
])
def test_store_is_checked(connectors: str, problem: str) -> None:
    with pytest.raises(SpecInvalid) as caught:
        parse(connectors)
    assert any(problem in p for p in caught.value.problems)


def test_lint_accepts_a_stored_answer_read_later_with_get() -> None:
    assert _errors(store_package("lint5")) == []


def test_a_boundary_error_an_operation_throws_is_not_called_dead() -> None:
    warned = [p.element_id for p in lint_package(package("lint6")) if p.severity == "warning"]
    assert "Boundary_gagal" not in warned
    other = lint_package(package("lint7", code="KODE_LAIN"))  # the boundary catches LAPOR_GAGAL, thrown by nobody
    assert "Boundary_gagal" in [p.element_id for p in other if p.severity == "warning"]


SCENARIO = """name = "SIMBG menjawab"
[[steps]]
apply = "daring"
data = { nik = "3471012345678901", keluhan = "-" }
[[steps]]
answer = "OPERATION"
data = { nomor_registrasi = "SIMBG-9" }
[[steps]]
expect = { status = "running", open_tasks = ["Task_periksa"], data = { simbg = { nomor_registrasi = "SIMBG-9" } } }
"""


def test_a_scenario_step_answers_a_stored_operation() -> None:
    pkg = store_package("skenario1")
    passing = from_files({**pkg.files, "tests/jawab.toml": SCENARIO.replace("OPERATION", "simbg.daftar").encode()})
    [result] = scenarios.run(passing, settings=Settings())
    assert result.passed, [p.text("en") for p in result.problems]
    wrong = from_files({**pkg.files, "tests/jawab.toml": SCENARIO.replace("OPERATION", "simbg.hilang").encode()})
    [result] = scenarios.run(wrong, settings=Settings())
    assert not result.passed
    assert any("does not store its answer" in p.text("en") for p in result.problems)
