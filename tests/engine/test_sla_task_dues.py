"""Officer tasks open while a case's SLA clock stands still: their due dates move on with the case's.

The package: two branches from the start, an officer's technical check (Task_teknis, 2 working days)
and a file check (Task_periksa) that sends the file back to the applicant (Task_melengkapi, lane
`applicant`); both branches join before the end. While the applicant completes the file the case's
clock stands still, and so does the technical check's.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from engine.catalogue.package import Package, from_files
from engine.context import AppContext
from engine.db import transaction
from engine.jobs.service import flag_overdue
from engine.sla import calendar_store
from engine.sla.escalation import escalate_overdue
from tests.conftest import FakeClock
from tests.engine.test_sla_clock import WIB, at, people, wib
from tests.factories import Driver, deploy
from tests.packages import AGENCY, SERVICE

pytestmark = pytest.mark.postgres

_PROP = '<spiffworkflow:property name="{}" value="{}"/>'


def _task(element: str, name: str, flows: str, *props: tuple[str, str]) -> str:
    body = "".join(_PROP.format(*p) for p in (("formJsonSchemaFilename", "catatan.schema.json"), *props))
    return (f'<bpmn:userTask id="{element}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'{body}</spiffworkflow:properties></bpmn:extensionElements>{flows}</bpmn:userTask>')


def branches_package() -> Package:
    """Build the two-branch package `cabang`: a technical check beside a file sent back to the applicant."""
    bpmn = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_cabang" targetNamespace="http://mpp.test">
  <bpmn:collaboration id="Collab_cabang"><bpmn:participant id="Part_cabang" processRef="cabang"/></bpmn:collaboration>
  <bpmn:process id="cabang" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_petugas" name="Petugas [dinas.petugas]">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Fork</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_teknis</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Join</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_pemohon" name="Pemohon [applicant]">
        <bpmn:flowNodeRef>Task_melengkapi</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_0" sourceRef="StartEvent_1" targetRef="Fork"/>
    <bpmn:parallelGateway id="Fork"><bpmn:incoming>Flow_0</bpmn:incoming>
      <bpmn:outgoing>Flow_a</bpmn:outgoing><bpmn:outgoing>Flow_b</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:sequenceFlow id="Flow_a" sourceRef="Fork" targetRef="Task_teknis"/>
    <bpmn:sequenceFlow id="Flow_b" sourceRef="Fork" targetRef="Task_periksa"/>
    {_task("Task_teknis", "Pemeriksaan teknis",
           "<bpmn:incoming>Flow_a</bpmn:incoming><bpmn:outgoing>Flow_a2</bpmn:outgoing>", ("slaDays", "2"))}
    {_task("Task_periksa", "Periksa kelengkapan",
           "<bpmn:incoming>Flow_b</bpmn:incoming><bpmn:outgoing>Flow_b2</bpmn:outgoing>", ("slaDays", "1"))}
    <bpmn:sequenceFlow id="Flow_b2" sourceRef="Task_periksa" targetRef="Task_melengkapi"/>
    {_task("Task_melengkapi", "Lengkapi berkas",
           "<bpmn:incoming>Flow_b2</bpmn:incoming><bpmn:outgoing>Flow_b3</bpmn:outgoing>", ("slaDays", "10"))}
    <bpmn:sequenceFlow id="Flow_a2" sourceRef="Task_teknis" targetRef="Join"/>
    <bpmn:sequenceFlow id="Flow_b3" sourceRef="Task_melengkapi" targetRef="Join"/>
    <bpmn:parallelGateway id="Join"><bpmn:incoming>Flow_a2</bpmn:incoming><bpmn:incoming>Flow_b3</bpmn:incoming>
      <bpmn:outgoing>Flow_end</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:sequenceFlow id="Flow_end" sourceRef="Join" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"catatan": {"type": "string", "title": "Catatan", "maxLength": 200}}}
    return from_files({
        "service.toml": (SERVICE.format(key="cabang") + AGENCY).encode(),
        "process.bpmn": bpmn.encode(),
        "forms/start.schema.json": json.dumps({**schema, "properties": {}}).encode(),
        "forms/catatan.schema.json": json.dumps(schema).encode(),
    })


def _scan(ctx: AppContext, now: datetime) -> int:
    with transaction(ctx.sessions) as session:
        flagged = flag_overdue(session, now=now)
        escalate_overdue(session, now=now)
    return flagged


def test_an_officer_task_open_during_a_pause_moves_its_due_date_by_the_paused_service_hours(
        ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, branches_package())
    officer, applicant, _admin = people(ctx)
    with transaction(ctx.sessions) as session:
        calendar_store.add_holiday(session, day=date(2026, 11, 16), name="Libur daerah", kind="national",
                                   actor="admin", cache=ctx.rt.calendars)
    d = Driver(ctx)
    clock.now = at(date(2026, 11, 11), 9)  # Wednesday 09:00
    case = d.start("cabang", {}, applicant, channel="daring")
    # Two working days: Thursday, then Friday at the Friday closing time.
    assert wib(d.task(case.id, "Task_teknis").due_at) == datetime(2026, 11, 13, 16, 30, tzinfo=WIB)
    case_due = wib(d.case(case.id).due_at)

    clock.now = at(date(2026, 11, 12), 15)  # Thursday 15:00: the file goes back to the applicant
    d.complete(case.id, "Task_periksa", officer, {"catatan": "kurang"})
    assert d.case(case.id).sla_paused_since == clock.now

    # Past the technical check's first due date, while the clock stands still: not overdue, not escalated.
    assert _scan(ctx, at(date(2026, 11, 13), 17)) == 0
    assert (d.task(case.id, "Task_teknis").overdue, d.task(case.id, "Task_teknis").escalated_to) == (False, None)

    # Tuesday 10:00 (Monday a holiday): 1 h on Thursday, 7 h on Friday (the prayer break left out), 2 h on Tuesday.
    clock.now = at(date(2026, 11, 17), 10)
    d.complete(case.id, "Task_melengkapi", applicant, {"catatan": "lengkap"})
    assert d.case(case.id).sla_paused_s == 10 * 3600
    # Friday 16:30 plus 10 service hours: the weekend and the holiday skipped, Tuesday's 8 h, Wednesday 10:00.
    assert wib(d.task(case.id, "Task_teknis").due_at) == datetime(2026, 11, 18, 10, 0, tzinfo=WIB)
    assert wib(d.case(case.id).due_at) > case_due  # the case's own due date moved as well

    assert _scan(ctx, at(date(2026, 11, 18), 9, 59)) == 0
    assert _scan(ctx, at(date(2026, 11, 18), 10, 1)) == 1
    assert d.task(case.id, "Task_teknis").overdue


def test_an_applicant_task_keeps_its_own_due_date_and_is_flagged_when_late(ctx: AppContext,
                                                                           clock: FakeClock) -> None:
    deploy(ctx, branches_package())
    officer, applicant, _admin = people(ctx)
    d = Driver(ctx)
    case = d.start("cabang", {}, applicant, channel="daring")  # Monday 2 March 2026, 08:00
    d.complete(case.id, "Task_periksa", officer, {"catatan": "kurang"})
    applicant_task = d.task(case.id, "Task_melengkapi")
    # Ten working days for the applicant; the office's pause does not stop the applicant's own deadline.
    assert wib(applicant_task.due_at) == datetime(2026, 3, 16, 16, 0, tzinfo=WIB)
    assert _scan(ctx, at(date(2026, 3, 16), 17)) == 1
    assert d.task(case.id, "Task_melengkapi").overdue
    assert not d.task(case.id, "Task_teknis").overdue  # due long ago, but its clock stands still
