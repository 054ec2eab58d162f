"""The SLA clock: it stands still while the applicant must act, and due dates follow the working hours.

The package: an officer checks the file (Task_periksa, 2 working days); an incomplete file goes to
the applicant (Task_melengkapi, lane `applicant`) and back; a complete one is processed
(Task_proses, optionally marked `slaClock = paused`). The service's time limit is 5 working days.
The test clock starts on Monday 2 March 2026, 08:00 WIB.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.bpmn.outbound import OutboundCall
from engine.catalogue.package import Package, from_files
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.lint.service import lint_package
from engine.models import Bill, Job, SlaPause
from engine.payments.adapter import CreateBillAdapter
from engine.payments.notifications import apply_notification
from engine.sla import calendar_store
from engine.sla import clock as sla_clock
from engine.sla import service as sla
from engine.sla.calendar import WorkingCalendar
from tests.conftest import FakeClock
from tests.engine.test_payments import NOTIFY_PATH, SECRET, bank  # noqa: F401 - the bank simulator fixture
from tests.engine.test_payments import _case as paying_case
from tests.factories import Driver, deploy, make_user
from tests.packages import AGENCY, SERVICE, simple_package
from tests.simulators.snap_bank import SnapBankSimulator

WIB = ZoneInfo("Asia/Jakarta")
pytestmark = pytest.mark.postgres

_PROPS = '<bpmn:extensionElements><spiffworkflow:properties>{}</spiffworkflow:properties></bpmn:extensionElements>'
_PROP = '<spiffworkflow:property name="{}" value="{}"/>'


def _task(element: str, name: str, form: str, incoming: str, outgoing: str, *extra: tuple[str, str]) -> str:
    props = _PROPS.format(_PROP.format("formJsonSchemaFilename", form) + "".join(_PROP.format(*p) for p in extra))
    return (f'<bpmn:userTask id="{element}" name="{name}">{props}{incoming}{outgoing}</bpmn:userTask>')


def clock_package(*, marked: str | None = None, applicant_clock: str | None = None) -> Package:
    """Build the check / complete-the-file / process package; `marked` sets Task_proses's slaClock."""
    proses_props = (("slaClock", marked),) if marked else ()
    applicant_props = (("slaClock", applicant_clock),) if applicant_clock else ()
    bpmn = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_jeda" targetNamespace="http://mpp.test">
  <bpmn:collaboration id="Collab_jeda"><bpmn:participant id="Part_jeda" processRef="jeda"/></bpmn:collaboration>
  <bpmn:process id="jeda" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_petugas" name="Petugas [dinas.petugas]">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Gateway_lengkap</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_proses</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_pemohon" name="Pemohon [applicant]">
        <bpmn:flowNodeRef>Task_melengkapi</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_periksa"/>
    {_task("Task_periksa", "Periksa kelengkapan", "periksa.schema.json",
           "<bpmn:incoming>Flow_1</bpmn:incoming><bpmn:incoming>Flow_balik</bpmn:incoming>",
           "<bpmn:outgoing>Flow_2</bpmn:outgoing>", ("slaDays", "2"))}
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_periksa" targetRef="Gateway_lengkap"/>
    <bpmn:exclusiveGateway id="Gateway_lengkap" default="Flow_kurang"><bpmn:incoming>Flow_2</bpmn:incoming>
      <bpmn:outgoing>Flow_lengkap</bpmn:outgoing><bpmn:outgoing>Flow_kurang</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="Flow_lengkap" sourceRef="Gateway_lengkap" targetRef="Task_proses">
      <bpmn:conditionExpression>lengkap == "ya"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_kurang" sourceRef="Gateway_lengkap" targetRef="Task_melengkapi"/>
    {_task("Task_melengkapi", "Lengkapi berkas", "melengkapi.schema.json",
           "<bpmn:incoming>Flow_kurang</bpmn:incoming>", "<bpmn:outgoing>Flow_balik</bpmn:outgoing>",
           *applicant_props)}
    <bpmn:sequenceFlow id="Flow_balik" sourceRef="Task_melengkapi" targetRef="Task_periksa"/>
    {_task("Task_proses", "Proses", "proses.schema.json", "<bpmn:incoming>Flow_lengkap</bpmn:incoming>",
           "<bpmn:outgoing>Flow_3</bpmn:outgoing>", *proses_props)}
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_proses" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

    def form(props: dict[str, object], required: list[str]) -> bytes:
        return json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                           "properties": props, "required": required}).encode()

    return from_files({
        "service.toml": (SERVICE.format(key="jeda") + AGENCY).encode(),
        "process.bpmn": bpmn.encode(),
        "forms/start.schema.json": form({"harga": {"type": "integer"}, "jumlah": {"type": "integer"}}, []),
        "forms/periksa.schema.json": form({"lengkap": {"type": "string", "title": "Lengkap", "enum": ["ya", "tidak"]}},
                                          ["lengkap"]),
        "forms/melengkapi.schema.json": form({"keterangan": {"type": "string", "title": "Keterangan"}}, []),
        "forms/proses.schema.json": form({"catatan": {"type": "string", "title": "Catatan"}}, []),
    })


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a WIB wall-clock moment as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB).astimezone(UTC)


def wib(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(WIB)


def people(ctx: AppContext) -> tuple[Actor, Actor, Actor]:
    admin = make_user(ctx, "admin", platform_role="admin")
    return make_user(ctx, "petugas", "dinas.petugas"), make_user(ctx, "warga"), admin


def test_a_case_whose_applicant_took_5_working_days_is_not_overdue(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, clock_package())
    officer, applicant, admin = people(ctx)
    d = Driver(ctx)
    monday = date(2026, 3, 2)
    case = d.start("jeda", {"harga": 1, "jumlah": 1}, applicant, channel="daring")
    assert wib(d.case(case.id).due_at) == datetime(2026, 3, 9, 16, 0, tzinfo=WIB)  # 5 working days
    clock.now = at(monday, 9)
    d.complete(case.id, "Task_periksa", officer, {"lengkap": "tidak"})
    assert d.case(case.id).sla_paused_since == at(monday, 9)

    # A week later, past the original due time, the applicant has still not answered: not overdue.
    clock.now = at(date(2026, 3, 9), 17)
    row = d.case(case.id)
    with ctx.sessions() as session:
        figures = sla.build_dashboard(session, actor=admin, filters=sla.Filters(), now=clock.now)
        status = sla_clock.status(session, calendar=ctx.rt.calendar, case=row, now=clock.now)
    assert [(s.open, s.overdue) for s in figures.services if s.process_key == "jeda"] == [(1, 0)]
    assert status.paused
    assert status.reason == ("menunggu pemohon", "waiting for the applicant")
    assert status.used_days == 0.1  # 08:00-09:00 on the first Monday

    clock.now = at(date(2026, 3, 9), 9)  # 5 working days after the send-back (39 service hours)
    d.complete(case.id, "Task_melengkapi", applicant, {"keterangan": "Sertifikat dilampirkan"})
    row = d.case(case.id)
    assert row.sla_paused_since is None
    assert row.sla_paused_s == 39 * 3600
    # The due date moved on by the same service hours: Monday 9 to Monday 16 March, 16:00.
    assert wib(row.due_at) == datetime(2026, 3, 16, 16, 0, tzinfo=WIB)
    with ctx.sessions() as session:
        pauses = [(p.reason, p.element_id, p.paused_s) for p in session.scalars(select(SlaPause))]
    assert pauses == [("applicant", "Task_melengkapi", 39 * 3600)]

    clock.now = at(date(2026, 3, 10), 9)
    d.complete(case.id, "Task_periksa", officer, {"lengkap": "ya"})
    clock.now = at(date(2026, 3, 12), 15)  # 8.9 working days after filing, 3.9 of them the office's
    assert d.complete(case.id, "Task_proses", officer, {"catatan": "selesai"}) == "completed"
    row = d.case(case.id)
    with ctx.sessions() as session:
        figures = sla.build_dashboard(session, actor=admin, filters=sla.Filters(), now=clock.now)
        status = sla_clock.status(session, calendar=ctx.rt.calendar, case=row, now=clock.now)
    service = next(s for s in figures.services if s.process_key == "jeda")
    assert (service.measured, service.on_time, service.compliance) == (1, 1, 100.0)
    assert service.working_days_median == 3.88  # 8.875 working days since filing, 5 of them the applicant's
    assert not status.paused
    assert status.used_days == 3.9
    # Thu 15:00-16:00, Friday, Monday 16 (the day of filing counts on top of the 5: due at close of the 5th after it).
    assert status.remaining_days == 2.1


def test_a_marked_stage_pauses_and_an_applicant_task_may_keep_the_clock_running(ctx: AppContext,
                                                                                clock: FakeClock) -> None:
    deploy(ctx, clock_package(marked="paused", applicant_clock="running"))
    officer, applicant, _admin = people(ctx)
    d = Driver(ctx)
    case = d.start("jeda", {"harga": 1, "jumlah": 1}, applicant, channel="daring")
    d.complete(case.id, "Task_periksa", officer, {"lengkap": "tidak"})
    assert d.case(case.id).sla_paused_since is None  # slaClock = running on the applicant's task
    d.complete(case.id, "Task_melengkapi", applicant, {})
    clock.advance(hours=1)
    d.complete(case.id, "Task_periksa", officer, {"lengkap": "ya"})
    assert d.case(case.id).sla_paused_since == clock.now  # Task_proses: slaClock = paused
    clock.advance(hours=2)
    d.complete(case.id, "Task_proses", officer, {})
    row = d.case(case.id)
    assert (row.status, row.sla_paused_since, row.sla_paused_s) == ("completed", None, 2 * 3600)
    with ctx.sessions() as session:
        assert [p.reason for p in session.scalars(select(SlaPause))] == ["marked"]


def test_lint_refuses_an_unknown_sla_clock_value() -> None:
    problems = lint_package(clock_package(marked="stopped"))
    assert [p.message for p in problems if "slaClock" in p.message] == [
        "user task 'Task_proses': slaClock 'stopped' must be one of paused, running"]
    assert [p.message_id for p in problems if "slaClock" in p.message] == [
        "tugas 'Task_proses': slaClock 'stopped' harus salah satu dari paused, running"]


def test_due_dates_honour_friday_hours_and_a_holiday_an_admin_adds(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, clock_package())
    _officer, applicant, _admin = people(ctx)
    with transaction(ctx.sessions) as session:
        calendar_store.add_holiday(session, day=date(2026, 11, 16), name="Libur daerah", kind="national",
                                   actor="admin", cache=ctx.rt.calendars)
    clock.now = at(date(2026, 11, 12), 15)  # Thursday 15:00
    d = Driver(ctx)
    case = d.start("jeda", {"harga": 1, "jumlah": 1}, applicant, channel="daring")
    # Task_periksa, 2 working days: Friday 13, (weekend, Monday 16 a holiday), Tuesday 17 at closing time.
    assert wib(d.task(case.id, "Task_periksa").due_at) == datetime(2026, 11, 17, 16, 0, tzinfo=WIB)
    # The service, 5 working days: Fri 13, Tue 17, Wed 18, Thu 19, Fri 20 at the Friday closing time, 16:30.
    assert wib(d.case(case.id).due_at) == datetime(2026, 11, 20, 16, 30, tzinfo=WIB)


def test_a_working_hours_timer_skips_the_weekend_the_friday_break_and_a_holiday(ctx: AppContext,
                                                                              clock: FakeClock) -> None:
    deploy(ctx, simple_package("jam", shape="wait", timer="after_working_hours(4)", timer_kind="timeDate"))
    with transaction(ctx.sessions) as session:
        calendar_store.add_holiday(session, day=date(2026, 11, 16), name="Libur daerah", kind="national",
                                   actor="admin", cache=ctx.rt.calendars)
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    clock.now = at(date(2026, 11, 13), 11)  # Friday 11:00: 30 minutes before the Friday prayer break
    case = d.start("jam", {"harga": 1, "jumlah": 1}, officer)
    d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"})
    with ctx.sessions() as session:
        due = session.scalar(select(Job.due_at).where(Job.kind == "timer", Job.case_id == case.id))
    # 11:00-11:30 and 13:00-16:30 on Friday (4 h), so the timer fires at Friday's closing time (SpiffWorkflow
    # holds timers on the wall clock; re-anchoring on the test clock may cost it microseconds).
    assert abs(wib(due) - datetime(2026, 11, 13, 16, 30, tzinfo=WIB)) < timedelta(seconds=5)


def test_working_hours_arithmetic_on_the_calendar() -> None:
    calendar = WorkingCalendar({date(2026, 11, 16): "Libur daerah"})
    friday_3pm = datetime(2026, 11, 13, 15, 0, tzinfo=WIB)
    # 1.5 h on Friday, Monday a holiday, 8 h on Tuesday, 6.5 h on Wednesday.
    assert calendar.add_working_hours(friday_3pm, 16).astimezone(WIB) == datetime(2026, 11, 18, 14, 30, tzinfo=WIB)
    assert calendar.working_time_between(friday_3pm, datetime(2026, 11, 17, 12, 0, tzinfo=WIB)) == timedelta(hours=5.5)
    assert calendar.due_at(friday_3pm, 2).astimezone(WIB) == datetime(2026, 11, 18, 16, 0, tzinfo=WIB)
    assert calendar.closing_time(date(2026, 11, 13)).strftime("%H:%M") == "16:30"


def test_the_clock_stands_still_while_a_bill_waits_to_be_paid(ctx: AppContext, clock: FakeClock,
                                                              bank: SnapBankSimulator) -> None:  # noqa: F811
    case_id = paying_case(ctx)  # waits for the bank's paid message
    with transaction(ctx.sessions) as session:
        CreateBillAdapter().send_in(session, ctx.rt, OutboundCall(
            "pembayaran.buat_tagihan", {"jumlah": 50_000, "rincian": "Retribusi"}, "tiket-1", case_id=case_id))
    d = Driver(ctx)
    assert d.case(case_id).sla_paused_since == clock.now
    due_before = d.case(case_id).due_at
    assert due_before is not None
    clock.advance(days=1)  # Tuesday 08:00: a full Monday (8 service hours) of waiting for the payment
    with ctx.sessions() as session:
        bill = session.scalars(select(Bill).where(Bill.case_id == case_id)).one()
    _path, headers, body = bank.notification(bill.va_number or "")
    with transaction(ctx.sessions) as session:
        apply_notification(session, rt=ctx.rt, headers=headers, body=body, path=NOTIFY_PATH, secret=SECRET,
                           now=clock.now)
    assert d.open_ids(case_id) == ["Task_periksa"]
    row = d.case(case_id)
    assert (row.sla_paused_since, row.sla_paused_s) == (None, 8 * 3600)
    assert wib(row.due_at) == wib(due_before) + timedelta(days=1)  # Monday 9 to Tuesday 10 March, 16:00
    with ctx.sessions() as session:
        assert [p.reason for p in session.scalars(select(SlaPause))] == ["payment"]
