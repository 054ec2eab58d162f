"""A case's own time limit (`sla_working_days`, engine/sla/limit.py): the PBG of low-income housing in 10 working days.

The test clock starts on Monday 2 March 2026, 08:00 WIB; PBG's service standard says 28 working days.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from engine.catalogue.package import from_files
from engine.context import AppContext
from engine.lint.service import lint_package
from engine.sla import clock as sla_clock
from engine.sla import service as sla
from tests.conftest import FakeClock
from tests.engine.test_sla_clock import WIB, at, wib
from tests.factories import DRAWINGS, PBG, Driver, add_provider, deploy, make_user, pbg_application
from tests.packages import simple_package

pytestmark = pytest.mark.postgres


def test_an_mbr_case_is_due_in_10_working_days_and_overdue_after_them(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    applicant, admin = make_user(ctx, "warga"), make_user(ctx, "admin", platform_role="admin")
    front = make_user(ctx, "fo", "dpmptsp.front_office")
    griya = make_user(ctx, "griya", "konsultan.perencana", org="konsultan_griya")
    d = Driver(ctx)
    mbr = d.start("pbg", pbg_application(rumah_mbr=True, luas_bangunan=36), applicant)
    other = d.start("pbg", pbg_application(), applicant)
    assert d.case(mbr.id).data["sla_working_days"] == 10
    assert wib(d.case(mbr.id).due_at) == datetime(2026, 3, 16, 16, 0, tzinfo=WIB)  # 10th working day after 2 March
    # The 28th working day: Nyepi, Eid al-Fitr and its collective leave skipped; a Friday closes at 16:30.
    assert wib(d.case(other.id).due_at) == datetime(2026, 4, 17, 16, 30, tzinfo=WIB)
    for case in (mbr, other):  # the due date stays where it is as the case moves on
        d.complete(case.id, "Task_kelengkapan", front, {"kelengkapan": "lengkap"})
        d.complete(case.id, "Task_gambar_teknis", griya, DRAWINGS)
    assert wib(d.case(mbr.id).due_at) == datetime(2026, 3, 16, 16, 0, tzinfo=WIB)

    clock.now = at(date(2026, 3, 16), 15)  # the last hour of the promise: neither is overdue
    with ctx.sessions() as session:
        board = sla.build_dashboard(session, actor=admin, filters=sla.Filters(), now=clock.now)
    assert [(s.open, s.overdue) for s in board.services if s.process_key == "pbg"] == [(2, 0)]

    clock.now = at(date(2026, 3, 17), 9)  # the morning after: the MBR case is overdue, the other is not
    rows = d.case(mbr.id), d.case(other.id)
    with ctx.sessions() as session:
        board = sla.build_dashboard(session, actor=admin, filters=sla.Filters(), now=clock.now)
        late, on_time = (sla_clock.status(session, calendar=ctx.rt.calendar, case=row, now=clock.now) for row in rows)
    assert [(s.open, s.overdue) for s in board.services if s.process_key == "pbg"] == [(2, 1)]
    assert late.remaining_days is not None
    assert late.remaining_days < 0
    assert on_time.remaining_days is not None
    assert on_time.remaining_days > 0


def test_a_value_that_cannot_be_a_time_limit_leaves_the_services(ctx: AppContext) -> None:
    deploy(ctx, simple_package("batas", script="total = harga * jumlah\nsla_working_days = jumlah"))
    d = Driver(ctx)
    applicant = make_user(ctx, "warga")
    three = d.start("batas", {"harga": 1, "jumlah": 3}, applicant)
    too_long = d.start("batas", {"harga": 1, "jumlah": 400}, applicant)
    assert wib(d.case(three.id).due_at) == datetime(2026, 3, 5, 16, 0, tzinfo=WIB)  # 3 working days
    assert wib(d.case(too_long.id).due_at) == datetime(2026, 3, 9, 16, 0, tzinfo=WIB)  # the service's 5


@pytest.mark.parametrize("value", ["0", "400", "2.5", "True", "'10'"])
def test_lint_refuses_a_script_setting_a_time_limit_that_cannot_be(value: str) -> None:
    problems = lint_package(simple_package("batas", script=f"total = harga\nsla_working_days = {value}"))
    errors = [p for p in problems if p.severity == "error"]
    assert [p.element_id for p in errors] == ["Script_hitung"]
    assert "sla_working_days" in errors[0].message
    assert "1 sampai 365" in errors[0].message_id


def test_lint_refuses_a_form_field_for_the_time_limit_without_bounds() -> None:
    package = simple_package("batas")
    files = dict(package.files)
    files["forms/periksa.schema.json"] = json.dumps({"type": "object", "properties": {
        "sla_working_days": {"type": "integer", "title": "Jangka waktu (hari kerja)", "minimum": 0}}}).encode()
    errors = [p for p in lint_package(from_files(files)) if p.severity == "error"]
    assert [(p.file, p.element_id) for p in errors] == [("forms/periksa.schema.json", "sla_working_days")]


def test_lint_passes_pbg_with_its_mbr_time_limit() -> None:
    from engine.catalogue.package import from_path

    assert [p for p in lint_package(from_path(PBG)) if p.severity == "error"] == []


def test_a_scenario_expects_the_case_s_due_date() -> None:
    from engine.catalogue import scenarios
    from engine.settings import Settings
    from tests.engine.test_scenarios import APPLY, with_tests

    base = simple_package("batas", script="total = harga * jumlah\nsla_working_days = jumlah")
    package = with_tests(base, tepat=APPLY + '[[steps]]\nexpect = { due = 2026-03-05 }\n',
                         meleset=APPLY + '[[steps]]\nexpect = { due = 2026-03-06T16:00:00+07:00 }\n')
    results = {r.file: r for r in scenarios.run(package, settings=Settings())}
    assert results["tests/tepat.toml"].passed, results["tests/tepat.toml"].problems
    wrong = results["tests/meleset.toml"]
    assert [p.text("en") for p in wrong.problems] == [
        'step 2: due date (WIB): expected "2026-03-06T16:00:00+07:00", got "2026-03-05T16:00:00+07:00"']
    assert wrong.problems[0].text("id").startswith("langkah 2: batas waktu (WIB): diharapkan")
