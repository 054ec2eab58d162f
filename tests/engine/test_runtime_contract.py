"""What lint passes, the platform runs: human tasks without forms, no silent stalls, safe timers, retries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from engine.cases.service import retry_incident
from engine.catalogue.package import Package, from_files
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import SYSTEM
from engine.models import Incident, Job, ProcessFile, ProcessVersion
from tests.conftest import FakeClock
from tests.factories import Driver, deploy, make_user
from tests.packages import FORM, SERVICE, STANDARD, START_FORM

START = {"harga": 2, "jumlah": 3}
# The shared test service, publishing agency declared (lint asks for it).
AGENCY = '''
[[agencies]]
code = "dinas"
kind = "city_office"
name = { id = "Dinas Uji", en = "Test Office" }
roles = [{ key = "petugas", name = { id = "Petugas", en = "Officer" } },
         { key = "kepala", name = { id = "Kepala", en = "Head" } }]
'''

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_{key}" targetNamespace="http://mpp.test">
  <bpmn:collaboration id="Collab_{key}"><bpmn:participant id="Part_{key}" processRef="{key}"/></bpmn:collaboration>
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">{lanes}</bpmn:laneSet>
    {body}
  </bpmn:process>
</bpmn:definitions>
"""


def _lane(index: int, name: str, nodes: list[str]) -> str:
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    return f'<bpmn:lane id="Lane_{index}" name="{name}">{refs}</bpmn:lane>'


def _chain(nodes: list[tuple[str, str]]) -> str:
    """Join (id, element xml with {io} where its incoming/outgoing go) by sequence flows, start to end."""
    parts = []
    for index, (node_id, xml) in enumerate(nodes):
        incoming = f"<bpmn:incoming>Flow_{index}</bpmn:incoming>" if index else ""
        outgoing = f"<bpmn:outgoing>Flow_{index + 1}</bpmn:outgoing>" if index < len(nodes) - 1 else ""
        parts.append(xml.replace("{io}", incoming + outgoing))
        if index < len(nodes) - 1:
            target = nodes[index + 1][0]
            parts.append(f'<bpmn:sequenceFlow id="Flow_{index + 1}" sourceRef="{node_id}" targetRef="{target}"/>')
    return "\n    ".join(parts)


def flow_package(key: str, nodes: list[tuple[str, str]], lanes: dict[str, list[str]],
                 extra: dict[str, bytes] | None = None) -> Package:
    """Build a package whose process is a straight chain of `nodes`, laid out in `lanes`."""
    lane_xml = "".join(_lane(i, name, ids) for i, (name, ids) in enumerate(lanes.items()))
    bpmn = HEAD.format(key=key, lanes=lane_xml, body=_chain(nodes))
    return from_files({
        "service.toml": (SERVICE.format(key=key) + AGENCY + STANDARD).encode(),
        "process.bpmn": bpmn.encode(),
        "forms/periksa.schema.json": json.dumps(FORM).encode(),
        "forms/start.schema.json": json.dumps(START_FORM).encode(),
        **(extra or {}),
    })


START_EVENT = ("StartEvent_1", '<bpmn:startEvent id="StartEvent_1">{io}</bpmn:startEvent>')
END_EVENT = ("EndEvent_1", '<bpmn:endEvent id="EndEvent_1" name="Selesai">{io}</bpmn:endEvent>')


def props(**values: str) -> str:
    """Return a spiffworkflow:properties extension with these name/value pairs."""
    items = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in values.items())
    return ("<bpmn:extensionElements><spiffworkflow:properties>"
            f"{items}</spiffworkflow:properties></bpmn:extensionElements>")


def user_task(node_id: str = "Task_periksa") -> tuple[str, str]:
    """A user task with the shared `periksa` form (field `catatan`)."""
    return node_id, (f'<bpmn:userTask id="{node_id}" name="Periksa">'
                     f'{props(formJsonSchemaFilename="periksa.schema.json")}{{io}}</bpmn:userTask>')


def timer_event(kind: str, expression: str, node_id: str = "Timer_tunggu") -> tuple[str, str]:
    """An intermediate timer catch event."""
    return node_id, (f'<bpmn:intermediateCatchEvent id="{node_id}" name="Tunggu">{{io}}'
                     f'<bpmn:timerEventDefinition id="TimerDef_1"><bpmn:{kind}>{expression}</bpmn:{kind}>'
                     "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")


def incident_of(ctx: AppContext, case_id: int) -> Incident:
    """Return the case's one open incident."""
    with ctx.sessions() as session:
        return session.query(Incident).filter_by(case_id=case_id, resolved_at=None).one()


def retry(ctx: AppContext, case_id: int) -> str:
    """Retry a case's incident on the newest version, the way an administrator does."""
    with transaction(ctx.sessions) as session:
        return retry_incident(session, rt=ctx.rt, case_id=case_id, actor=SYSTEM)


def store_unlinted(ctx: AppContext, package: Package) -> int:
    """Store a package as the next version of its key without lint: a version deployed before lint knew better."""
    from engine.bpmn import compile as spiff
    from engine.directory import service as directory

    compiled = spiff.compile_package(package)
    with transaction(ctx.sessions) as session:
        directory.apply_agencies(session, package.service().get("agencies", []))
        directory.ensure_roles(session, sorted(set(compiled.lane_roles.values())))
        latest = session.query(ProcessVersion).filter_by(key=compiled.key).count()
        version = ProcessVersion(key=compiled.key, version=latest + 1, content_hash=package.content_hash,
                                 service=package.service(), roles=sorted(set(compiled.lane_roles.values())),
                                 deployed_by="test")
        session.add(version)
        session.flush()
        session.add_all(ProcessFile(version_id=version.id, name=n, content=c) for n, c in package.files.items())
        return version.version


# ---------------------------------------------------------------- 1. manual and plain tasks


def _manual_and_plain(key: str = "manual") -> Package:
    manual = ("Task_arsip", '<bpmn:manualTask id="Task_arsip" name="Arsipkan berkas">'
              f'{props(slaDays="2", stage="Pengarsipan", stageEn="Filing")}{{io}}</bpmn:manualTask>')
    plain = ("Task_tandatangan", '<bpmn:task id="Task_tandatangan" name="Tanda tangan basah">{io}</bpmn:task>')
    return flow_package(key, [START_EVENT, manual, plain, END_EVENT], {
        "Petugas [dinas.petugas]": ["StartEvent_1", "Task_arsip"],
        "Kepala [dinas.kepala]": ["Task_tandatangan", "EndEvent_1"]})


def test_manual_and_plain_tasks_are_work_items_of_their_lanes(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, _manual_and_plain())
    officer = make_user(ctx, "petugas", "dinas.petugas")
    head = make_user(ctx, "kepala", "dinas.kepala")
    d = Driver(ctx)
    case = d.start("manual", START, officer)
    task = d.task(case.id, "Task_arsip")
    assert (task.role, task.name) == ("dinas.petugas", "Arsipkan berkas")
    assert task.due_at is not None
    assert task.due_at.replace(tzinfo=UTC) == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    assert (d.case(case.id).status, d.case(case.id).stage_id, d.case(case.id).stage_en) == (
        "running", "Pengarsipan", "Filing")
    assert [t.element_id for t in d.inbox(head)] == []
    assert d.complete(case.id, "Task_arsip", officer, {}) == "running"
    assert d.task(case.id, "Task_tandatangan").role == "dinas.kepala"
    assert d.complete(case.id, "Task_tandatangan", head, {}) == "completed"


def test_a_formless_task_has_an_empty_form_and_takes_no_data(ctx: AppContext) -> None:
    from engine.cases.tasks import get_task
    from forms.validation import FormInvalid

    deploy(ctx, _manual_and_plain())
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("manual", START, officer)
    task = d.task(case.id, "Task_arsip")
    with ctx.sessions() as session:
        detail = get_task(session, rt=ctx.rt, task_id=task.id, actor=officer)
    assert detail.schema is not None
    assert detail.schema.get("properties") == {}
    with pytest.raises(FormInvalid):
        d.complete(case.id, "Task_arsip", officer, {"disetujui": True})
    assert "disetujui" not in d.case(case.id).data


def test_a_formless_task_renders_and_completes_through_the_api_and_the_task_page(
        ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

    from api.app import create_app
    from engine.directory import accounts as accounts
    from engine.directory import service as directory

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    deploy(ctx, _manual_and_plain())
    with transaction(ctx.sessions) as session:
        for username, role in (("petugas", "dinas.petugas"), ("kepala", "dinas.kepala")):
            user = directory.create_user(session, username=username, platform_role="officer",
                                         password_hash=accounts.hash_password("rahasia-123"))
            directory.grant(session, user=user, role_key=role)
    case = Driver(ctx).start("manual", START, make_user(ctx, "depan", "dinas.petugas"))
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        token = client.post("/api/auth/token", data={"username": "petugas", "password": "rahasia-123"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        task_id = Driver(ctx).task(case.id, "Task_arsip").id
        detail = client.get(f"/api/tasks/{task_id}", headers=headers)
        assert detail.status_code == 200, detail.text
        assert detail.json()["form_schema"]["properties"] == {}
        done = client.post(f"/api/tasks/{task_id}/complete", json={"data": {}}, headers=headers)
        assert (done.status_code, done.json()["case_status"]) == (200, "running")

        page_id = Driver(ctx).task(case.id, "Task_tandatangan").id
        form = client.get("/masuk")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None
        client.post("/masuk", data={"username": "kepala", "password": "rahasia-123", "csrf_token": csrf.group(1)})
        page = client.get(f"/tugas/{page_id}")
        assert page.status_code == 200, page.text
        assert "Selesai" in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        posted = client.post(f"/tugas/{page_id}", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
        assert posted.status_code == 303, posted.text
    assert Driver(ctx).case(case.id).status == "completed"


# ---------------------------------------------------------------- 3. timers


def _timer_package(key: str, kind: str, expression: str) -> Package:
    nodes = [START_EVENT, timer_event(kind, expression), user_task(), END_EVENT]
    return flow_package(key, nodes, {"Petugas [dinas.petugas]": [n for n, _ in nodes]})


def _timer_due(ctx: AppContext, case_id: int) -> datetime:
    with ctx.sessions() as session:
        job = session.query(Job).filter_by(case_id=case_id, kind="timer", status="pending").one()
        return job.due_at.replace(tzinfo=UTC) if job.due_at.tzinfo is None else job.due_at


@pytest.mark.parametrize("expression", ["add_working_days(today(), 3)", "after_working_days(3)"])
def test_a_working_day_time_date_fires_at_close_of_service_on_that_day(
        ctx: AppContext, clock: FakeClock, expression: str) -> None:
    deploy(ctx, _timer_package("tunggu", "timeDate", expression))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    clock.advance(days=4)  # Friday 6 March 2026, 08:00 WIB: three working days later is Wednesday
    case = d.start("tunggu", START, officer)
    due = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # 16:00 WIB
    assert abs(_timer_due(ctx, case.id) - due) < timedelta(seconds=5)
    assert (d.case(case.id).status, d.open_ids(case.id)) == ("running", [])
    clock.now = due - timedelta(minutes=1)
    d.run_jobs()
    assert d.open_ids(case.id) == []
    clock.now = due + timedelta(seconds=5)
    d.run_jobs()
    assert d.open_ids(case.id) == ["Task_periksa"]


@pytest.mark.parametrize(("kind", "expression", "after"), [
    ("timeDuration", "timedelta(hours=2)", timedelta(hours=2)),
    ("timeDuration", "timedelta(days=2)", timedelta(days=2)),
    ("timeDuration", "timedelta(seconds=30)", timedelta(seconds=30)),
    ("timeDate", "now() + timedelta(hours=5)", timedelta(hours=5)),
    ("timeDate", '"2026-03-02T10:00:00"', timedelta(hours=2)),  # naive means WIB
])
def test_natural_timer_values_are_accepted(ctx: AppContext, clock: FakeClock, kind: str, expression: str,
                                           after: timedelta) -> None:
    store_unlinted(ctx, _timer_package("alami", kind, expression))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    start = clock.now
    case = d.start("alami", START, officer)
    assert d.case(case.id).status == "running"
    assert abs(_timer_due(ctx, case.id) - (start + after)) < timedelta(seconds=5)
    clock.now = start + after + timedelta(seconds=5)
    d.run_jobs()
    assert d.open_ids(case.id) == ["Task_periksa"]


@pytest.mark.parametrize(("kind", "expression", "message"), [
    ("timeDuration", "5", "int"),
    ("timeDuration", "tenggat_tidak_ada", "NameError"),
    ("timeDuration", '"dua hari"', "ISO-8601"),
    ("timeDuration", "timedelta(days=-1)", "negative"),
    ("timeDate", '"P2D"', "date-time"),
    ("timeDate", "[1, 2]", "list"),
    ("timeCycle", "timedelta(hours=1)", "timedelta"),
    ("timeDate", "add_working_days(today(), 99999)", "ValueError"),
    ("timeDuration", '"P99999999D"', "too long"),
    ("timeDuration", "timedelta(days=999999999)", "too long"),
    ("timeCycle", '"R3/P1000000Y"', "too long"),
    ("timeCycle", '"R/PT0S"', "at least 60 seconds"),
    ("timeCycle", '"R5/PT1S"', "at least 60 seconds"),
])
def test_a_timer_value_that_cannot_be_scheduled_is_an_incident_on_the_timer(
        ctx: AppContext, kind: str, expression: str, message: str) -> None:
    store_unlinted(ctx, _timer_package("rusak", kind, expression))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    case = Driver(ctx).start("rusak", START, officer)
    assert case.status == "incident"
    incident = incident_of(ctx, case.id)
    assert incident.element_id == "Timer_tunggu"
    assert message in incident.message


# ---------------------------------------------------------------- 2. no silent stall

SIGNAL_CATCH = ("Event_sinyal", '<bpmn:intermediateCatchEvent id="Event_sinyal" name="Tunggu sinyal">{io}'
                '<bpmn:signalEventDefinition id="SignalDef_1" signalRef="Signal_1"/></bpmn:intermediateCatchEvent>')


def _stalling_package(key: str = "macet") -> Package:
    nodes = [START_EVENT, user_task(), SIGNAL_CATCH, END_EVENT]
    package = flow_package(key, nodes, {"Petugas [dinas.petugas]": [n for n, _ in nodes]})
    bpmn = package.files["process.bpmn"].replace(
        b'<bpmn:process id=', b'<bpmn:signal id="Signal_1" name="tidak_pernah"/>\n  <bpmn:process id=')
    return from_files({**package.files, "process.bpmn": bpmn})


def test_a_case_with_nothing_left_to_wait_for_is_an_incident_not_a_wait(ctx: AppContext) -> None:
    store_unlinted(ctx, _stalling_package())
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("macet", START, officer)
    assert d.case(case.id).status == "running"
    assert d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"}) == "incident"
    incident = incident_of(ctx, case.id)
    assert incident.element_id == "Event_sinyal"
    assert "nothing to wait for" in incident.message
    assert "Permohonan berhenti" in incident.message
    assert [e.action for e in d.events(case.id)][-1] == "incident"


def test_legitimate_waits_are_not_stalls(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, _timer_package("sabar", "timeDuration", '"P1D"'))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("sabar", START, officer)
    assert (d.case(case.id).status, d.case(case.id).stage_id) == ("running", "Menunggu")
    clock.advance(days=1, minutes=1)
    d.run_jobs()
    assert d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"}) == "completed"


# ---------------------------------------------------------------- 4. a stuck case can be saved

def _gateway_package(condition: str) -> Package:
    gateway = ("Gateway_cek", '<bpmn:exclusiveGateway id="Gateway_cek" default="Flow_biasa">{io}'
               '<bpmn:outgoing>Flow_khusus</bpmn:outgoing><bpmn:outgoing>Flow_biasa</bpmn:outgoing>'
               "</bpmn:exclusiveGateway>")
    tail = (f'<bpmn:sequenceFlow id="Flow_khusus" sourceRef="Gateway_cek" targetRef="EndEvent_khusus">'
            f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
            '<bpmn:sequenceFlow id="Flow_biasa" sourceRef="Gateway_cek" targetRef="Task_setuju"/>'
            '<bpmn:endEvent id="EndEvent_khusus" name="Khusus"><bpmn:incoming>Flow_khusus</bpmn:incoming>'
            "</bpmn:endEvent>")
    approve = ("Task_setuju", '<bpmn:userTask id="Task_setuju" name="Setujui">'
               f'{props(formJsonSchemaFilename="periksa.schema.json")}'
               '<bpmn:incoming>Flow_biasa</bpmn:incoming>{io}</bpmn:userTask>')
    nodes = [START_EVENT, user_task(), gateway]
    package = flow_package("gerbang", [*nodes, approve, END_EVENT], {
        "Petugas [dinas.petugas]": [n for n, _ in nodes] + ["Task_setuju", "EndEvent_1", "EndEvent_khusus"]})
    # The chain joined the gateway to the approval by Flow_3; the gateway's own flows replace it.
    bpmn = package.files["process.bpmn"].decode()
    bpmn = bpmn.replace('<bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_cek" targetRef="Task_setuju"/>', tail)
    bpmn = bpmn.replace("<bpmn:outgoing>Flow_3</bpmn:outgoing>", "").replace(
        "<bpmn:incoming>Flow_3</bpmn:incoming>", "")
    return from_files({**package.files, "process.bpmn": bpmn.encode()})


def test_a_gateway_naming_a_missing_field_is_saved_by_a_fixed_version(ctx: AppContext) -> None:
    store_unlinted(ctx, _gateway_package('kategori == "khusus"'))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("gerbang", START, officer)
    assert d.complete(case.id, "Task_periksa", officer, {"catatan": "biasa"}) == "incident"
    incident = incident_of(ctx, case.id)
    assert (incident.element_id, "NameError" in incident.message) == ("Gateway_cek", True)
    deploy(ctx, _gateway_package('catatan == "khusus"'))
    assert retry(ctx, case.id) == "running"
    assert d.open_ids(case.id) == ["Task_setuju"]
    assert d.complete(case.id, "Task_setuju", officer, {"catatan": "ok"}) == "completed"


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Defs_tarif" name="Tarif"
  namespace="http://mpp.test/dmn/tarif">
  <decision id="tarif" name="Tarif">
    <decisionTable id="Table_tarif" hitPolicy="UNIQUE">
      <input id="Input_jumlah" label="Jumlah">
        <inputExpression id="Expr_jumlah" typeRef="number"><text>{input}</text></inputExpression>
      </input>
      <output id="Output_biaya" label="Biaya" name="biaya" typeRef="number"/>
      <rule id="Rule_sedikit"><inputEntry id="In_sedikit"><text>&lt; 10</text></inputEntry>
        <outputEntry id="Out_sedikit"><text>5000</text></outputEntry></rule>
      <rule id="Rule_banyak"><inputEntry id="In_banyak"><text>&gt;= 10</text></inputEntry>
        <outputEntry id="Out_banyak"><text>20000</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def _dmn_package(input_expression: str) -> Package:
    rule = ("Task_tarif", '<bpmn:businessRuleTask id="Task_tarif" name="Hitung tarif"><bpmn:extensionElements>'
            "<spiffworkflow:calledDecisionId>tarif</spiffworkflow:calledDecisionId></bpmn:extensionElements>"
            "{io}</bpmn:businessRuleTask>")
    nodes = [START_EVENT, rule, user_task(), END_EVENT]
    return flow_package("tarif", nodes, {"Petugas [dinas.petugas]": [n for n, _ in nodes]},
                        {"tarif.dmn": DMN.replace("{input}", input_expression).encode()})


def test_a_dmn_input_typo_is_saved_by_a_fixed_version(ctx: AppContext) -> None:
    store_unlinted(ctx, _dmn_package("jumlha"))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    cases = [d.start("tarif", START, officer) for _ in range(2)]
    assert [c.status for c in cases] == ["incident", "incident"]
    assert incident_of(ctx, cases[0].id).element_id == "Task_tarif"
    deploy(ctx, _dmn_package("jumlah"))
    for case in cases:
        assert retry(ctx, case.id) == "running"
        assert d.case(case.id).data["biaya"] == 5000
        assert d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"}) == "completed"


def _boundary_package(key: str) -> Package:
    """Task_periksa, then Task_kedua with a boundary timer whose duration is the `catatan` just entered."""
    boundary = ('<bpmn:boundaryEvent id="Timer_batas" attachedToRef="Task_kedua">'
                '<bpmn:outgoing>Flow_lewat</bpmn:outgoing><bpmn:timerEventDefinition id="TimerDef_2">'
                '<bpmn:timeDuration>catatan</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
                '<bpmn:sequenceFlow id="Flow_lewat" sourceRef="Timer_batas" targetRef="EndEvent_lewat"/>'
                '<bpmn:endEvent id="EndEvent_lewat" name="Lewat"><bpmn:incoming>Flow_lewat</bpmn:incoming>'
                '</bpmn:endEvent>')
    nodes = [START_EVENT, user_task(), user_task("Task_kedua"), END_EVENT]
    ids = [n for n, _ in nodes] + ["Timer_batas", "EndEvent_lewat"]
    package = flow_package(key, nodes, {"Petugas [dinas.petugas]": ids})
    bpmn = package.files["process.bpmn"].replace(b"</bpmn:process>", boundary.encode() + b"</bpmn:process>")
    return from_files({**package.files, "process.bpmn": bpmn})


@pytest.mark.parametrize(("shape", "value"), [
    ("intermediate", "P99999999D"),  # ends after the year 9999: SpiffWorkflow's datetime overflowed
    ("intermediate", "P" + "9" * 150 + "D"),
    ("intermediate", "besok"),
    ("boundary", "P99999999D"),
], ids=["after-9999", "150-digit-days", "not-a-duration", "boundary-after-9999"])
def test_a_timer_value_entered_in_a_task_is_an_incident_on_the_timer_not_an_error(
        ctx: AppContext, shape: str, value: str) -> None:
    nodes = [START_EVENT, user_task(), timer_event("timeDuration", "catatan"), END_EVENT]
    package = (flow_package("masukan", nodes, {"Petugas [dinas.petugas]": [n for n, _ in nodes]})
               if shape == "intermediate" else _boundary_package("masukan"))
    store_unlinted(ctx, package)
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("masukan", START, officer)
    assert d.complete(case.id, "Task_periksa", officer, {"catatan": value}) == "incident"
    incident = incident_of(ctx, case.id)
    assert incident.element_id == ("Timer_tunggu" if shape == "intermediate" else "Timer_batas")
    assert "timer timeDuration" in incident.message
    assert len(incident.message) < 300  # the value is shortened, not copied whole


def test_a_failing_timer_is_saved_by_a_fixed_version(ctx: AppContext, clock: FakeClock) -> None:
    nodes = [START_EVENT, user_task(), timer_event("timeDuration", "{timer}"), END_EVENT]
    lanes = {"Petugas [dinas.petugas]": [n for n, _ in nodes]}
    broken = flow_package("waktu", [(n, x.replace("{timer}", "tenggat * 2")) for n, x in nodes], lanes)
    store_unlinted(ctx, broken)
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("waktu", START, officer)
    assert d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"}) == "incident"
    assert incident_of(ctx, case.id).element_id == "Timer_tunggu"
    deploy(ctx, flow_package("waktu", [(n, x.replace("{timer}", "timedelta(hours=2)")) for n, x in nodes], lanes))
    assert retry(ctx, case.id) == "running"
    assert d.case(case.id).stage_id == "Menunggu"
    clock.advance(hours=2, minutes=1)
    d.run_jobs()
    assert d.case(case.id).status == "completed"


def _parallel_package(script: str) -> Package:
    body = f"""<bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_periksa"/>
    <bpmn:userTask id="Task_periksa" name="Periksa">{props(formJsonSchemaFilename="periksa.schema.json")}
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_periksa" targetRef="Split"/>
    <bpmn:parallelGateway id="Split"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:outgoing>F4</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:sequenceFlow id="F3" sourceRef="Split" targetRef="Timer_tunggu"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Split" targetRef="Script_hitung"/>
    <bpmn:intermediateCatchEvent id="Timer_tunggu"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F5</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerDef_1"><bpmn:timeDuration>"P1D"</bpmn:timeDuration>
      </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="Script_hitung"><bpmn:incoming>F4</bpmn:incoming><bpmn:outgoing>F6</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="F5" sourceRef="Timer_tunggu" targetRef="Join"/>
    <bpmn:sequenceFlow id="F6" sourceRef="Script_hitung" targetRef="Join"/>
    <bpmn:parallelGateway id="Join"><bpmn:incoming>F5</bpmn:incoming><bpmn:incoming>F6</bpmn:incoming>
      <bpmn:outgoing>F7</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:sequenceFlow id="F7" sourceRef="Join" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>F7</bpmn:incoming></bpmn:endEvent>"""
    ids = ["StartEvent_1", "Task_periksa", "Split", "Timer_tunggu", "Script_hitung", "Join", "EndEvent_1"]
    package = flow_package("paralel", [START_EVENT, END_EVENT], {"Petugas [dinas.petugas]": ids})
    bpmn = package.files["process.bpmn"].decode()
    start = bpmn.index('<bpmn:startEvent id="StartEvent_1">')
    end = bpmn.index("</bpmn:process>")
    return from_files({**package.files, "process.bpmn": (bpmn[:start] + body + bpmn[end:]).encode()})


def test_a_timer_started_by_a_failed_step_is_scheduled_by_the_retry(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, _parallel_package("total = harga / (jumlah - jumlah)"))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("paralel", START, officer)
    assert d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"}) == "incident"
    assert d.open_ids(case.id) == []
    deploy(ctx, _parallel_package("total = harga * jumlah"))
    assert retry(ctx, case.id) == "running"
    clock.advance(days=1, minutes=1)
    d.run_jobs()
    assert d.case(case.id).status == "completed"


@pytest.mark.parametrize(("kind", "literal", "message"), [
    ("timeCycle", '"R/PT0S"', "at least 60 seconds between repeats"),
    ("timeDuration", '"P99999999D"', "too long"),
])
def test_lint_refuses_a_timer_literal_the_run_time_would_refuse(kind: str, literal: str, message: str) -> None:
    from engine.lint.service import lint_package

    problems = lint_package(_timer_package("rusak", kind, literal))
    found = [p for p in problems if p.element_id == "Timer_tunggu" and p.severity == "error"]
    assert found, [p.render() for p in problems]
    assert message in found[0].message
    assert "pengatur waktu" in found[0].text("id")
