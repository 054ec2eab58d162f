"""Scenario tests of packages: the file format, the runner on a throw-away copy, and what deployment does with them."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from engine.catalogue import package as packages
from engine.catalogue import registry, scenarios
from engine.catalogue.scenarios import ScenarioResult
from engine.catalogue.scenarios.record import scenario_text
from engine.context import AppContext
from engine.db import transaction
from engine.errors import PackageInvalid
from engine.lint.service import lint_package
from engine.models import Case, Job, ProcessVersion, User
from engine.settings import Settings
from tests.conftest import ROOT
from tests.packages import AGENCY, SERVICE, STANDARD, message_package, simple_package

WIB = ZoneInfo("Asia/Jakarta")
APPLY = '[[steps]]\napply = "daring"\ndata = { harga = 1500, jumlah = 3 }\n'
DONE = '[[steps]]\nact = "dinas.petugas"\ndata = { catatan = "lengkap" }\n'


def with_tests(base: packages.Package, **tests: str) -> packages.Package:
    """Return the package with scenario files added (name without folder and suffix → TOML text)."""
    return packages.from_files({**base.files, **{f"tests/{n}.toml": t.encode() for n, t in tests.items()}})


def one(package: packages.Package, settings: Settings, **kwargs: object) -> ScenarioResult:
    results = scenarios.run(package, settings=settings, **kwargs)  # type: ignore[arg-type]
    assert len(results) == 1
    return results[0]


@pytest.fixture
def settings() -> Settings:
    return Settings()


def messages(result: ScenarioResult, lang: str = "en") -> list[str]:
    return [p.text(lang) for p in result.problems]


def test_a_scenario_passes_through_the_engine_s_own_steps(settings: Settings) -> None:
    package = with_tests(simple_package(), lulus=(
        'name = { id = "Diperiksa", en = "Checked" }\nfee_field = "total"\n' + APPLY +
        '[[steps]]\nexpect = { status = "running", open_tasks = [{ task = "Task_periksa", role = "dinas.petugas" }], '
        'fee = 4500 }\n' + DONE +
        '[[steps]]\nexpect = { status = "completed", end = "EndEvent_1", path = ["Task_periksa"], stage = "Selesai", '
        'open_tasks = [], timers = [], documents = [], data = { total = 4500, catatan = "lengkap" } }\n'))
    result = one(package, settings)
    assert result.passed, messages(result)
    assert (result.file, result.name("id"), result.name("en")) == ("tests/lulus.toml", "Diperiksa", "Checked")
    kinds = [(e.step, e.kind) for e in result.trace]
    assert kinds == [(1, "apply"), (2, "expect"), (3, "act"), (4, "expect")]
    act = result.trace[2]
    assert (act.role, act.element_id, act.text_en) == ("dinas.petugas", "Task_periksa",
                                                       "'Periksa' completed by dinas.petugas")
    assert act.at == datetime(2026, 3, 2, 9, 0, tzinfo=WIB)  # the default start: Monday 09:00 WIB


def test_every_expectation_that_does_not_hold_is_named_with_its_step(settings: Settings) -> None:
    skck = packages.from_path(ROOT / "processes" / "skck")
    text = skck.files["tests/terbit.toml"].decode()
    final = text.index("[[steps]]\n[steps.expect]")
    wrong = text[:final] + """[[steps]]
[steps.expect]
status = "running"
end = "EndEvent_kedaluwarsa"
path = ["Task_penelitian", "Task_penerbitan"]
stage = "Menunggu"
open_tasks = ["Task_pembayaran"]
timers = ["Timer_pembayaran"]
fee = 50000
documents = ["Paspor"]
incident = "Task_penelitian"
data = { nomor_seri_blanko = "salah", tidak_ada = 1 }
"""
    result = one(with_tests(packages.from_files({k: v for k, v in skck.files.items() if not k.startswith("tests/")}),
                            salah=wrong), settings)
    assert not result.passed
    found = messages(result)
    assert all(p.file == "tests/salah.toml" for p in result.problems)
    assert 'step 9: status: expected "running", got "completed"' in found
    assert 'step 9: end event: expected "EndEvent_kedaluwarsa", got "EndEvent_terbit" (SKCK terbit)' in found
    assert ('step 9: completed tasks in order: expected ["Task_penelitian", "Task_penerbitan"], got '
            '["Task_penelitian", "Task_pembayaran", "Task_verifikasi_pembayaran", "Task_penerbitan"]') in found
    assert 'step 9: stage: expected "Menunggu", got "SKCK terbit"' in found
    assert 'step 9: open tasks: expected ["Task_pembayaran"], got []' in found
    assert 'step 9: waiting timers: expected ["Timer_pembayaran"], got []' in found
    assert "step 9: fee (biaya_pnbp): expected 50000, got 30000" in found
    assert ('step 9: documents issued: expected ["Paspor"], got '
            '["Surat Keterangan Catatan Kepolisian (SKCK) SKCK/YAN.2.3/0001/III/2026/INTELKAM"]') in found
    assert 'step 9: incident: expected "Task_penelitian", got null' in found
    assert 'step 9: data \'nomor_seri_blanko\': expected "salah", got "BL-0099123"' in found
    assert "step 9: data 'tidak_ada': expected 1, but it is not set" in found
    assert len(found) == 11
    assert 'langkah 9: status: diharapkan "running", ternyata "completed"' in messages(result, "id")
    assert result.trace[-1].kind == "failed"


def test_a_timer_fires_at_its_own_time_while_the_clock_moves_over_a_weekend(settings: Settings) -> None:
    package = with_tests(simple_package(shape="wait", timer='"P3D"'), tunggu=(
        'start = 2026-03-05T10:00:00+07:00\n' + APPLY + DONE +   # Thursday: the timer is due on Sunday 10:00
        '[[steps]]\nexpect = { timers = ["Timer_tunggu"] }\n'
        '[[steps]]\nadvance = "1 working day"\n'
        '[[steps]]\nexpect = { status = "running", timers = ["Timer_tunggu"] }\n'
        '[[steps]]\nadvance = "1 hari kerja"\n'
        '[[steps]]\nexpect = { status = "completed", timers = [] }\n'))
    result = one(package, settings)
    assert result.passed, messages(result)
    timeline = [(e.kind, e.at.astimezone(WIB).strftime("%a %d %H:%M")) for e in result.trace
                if e.kind in ("advance", "timer")]
    assert timeline == [("advance", "Fri 06 10:00"), ("advance", "Mon 09 10:00"), ("timer", "Sun 08 10:00")]


def test_working_days_skip_national_holidays(settings: Settings) -> None:
    package = with_tests(simple_package(), libur=(
        'start = 2026-03-17T10:00:00+07:00\n' + APPLY + '[[steps]]\nadvance = "1 working day"\n'))
    result = one(package, settings)
    assert result.passed, messages(result)
    # Nyepi and Idul Fitri with their collective leave close the offices from 18 to 24 March 2026.
    assert result.trace[-1].at.astimezone(WIB) == datetime(2026, 3, 25, 10, 0, tzinfo=WIB)
    assert result.trace[-1].text_id == "Jam dimajukan 1 hari kerja"


def test_a_diagram_that_fails_at_run_time_fails_its_scenario_with_the_incident(settings: Settings) -> None:
    broken = simple_package(script="total = harga / (jumlah - jumlah)")
    result = one(with_tests(broken, gagal=APPLY + DONE), settings)
    assert not result.passed
    assert result.problems[0].element_id == "Script_hitung"
    assert result.problems[0].text().startswith("step 1: the case stopped with an incident at Script_hitung (Hitung): ")
    assert "division by zero" in result.problems[0].text()
    assert "insiden di Script_hitung" in result.problems[0].text("id")
    expected = one(with_tests(broken, insiden=APPLY + '[[steps]]\nexpect = { status = "incident", '
                                                      'incident = "Script_hitung" }\n'), settings)
    assert expected.passed, messages(expected)


def test_steps_that_cannot_be_done_fail_the_scenario_with_what_to_change(settings: Settings) -> None:
    package = with_tests(
        simple_package(),
        peran=APPLY + '[[steps]]\nact = "dinas.kepala"\n',
        data=APPLY + '[[steps]]\nact = "dinas.petugas"\ndata = { catatan = 7 }\n',
        jam=APPLY + '[[steps]]\nuntil = 2026-03-01T09:00:00+07:00\n',
        timer=APPLY + '[[steps]]\nadvance = "next timer"\n',
        format='[[steps]]\nact = "dinas.petugas"\n[[steps]]\nadvance = "sebentar"\nexpect = { warna = "merah" }\n',
        toml='[[steps]\n')
    found = {r.file.removeprefix("tests/").removesuffix(".toml"): messages(r) for r in scenarios.run(
        package, settings=settings)}
    assert found["peran"] == ["step 2: no open task for dinas.kepala; open tasks: Task_periksa (dinas.petugas)"]
    assert found["data"] == [
        "step 2: Task_periksa: the data is refused: catatan: Wrong kind of value (expected string)."]
    assert found["jam"] == ["step 2: until 2026-03-01T09:00:00+07:00 is before the clock (2026-03-02T09:00:00+07:00)"]
    assert found["timer"] == ["step 2: no timer is waiting"]
    assert found["format"] == [
        'step 1: the first step must file the application: apply = "<channel>"',
        'step 2: advance "sebentar": write "3 working days", "2 days", "4 hours", an ISO duration ("P2D", "PT4H") '
        'or "next timer"',
        "step 2: expect: unknown key 'warna' (allowed: status, end, path, stage, open_tasks, timers, data, fee, "
        "documents, incident, due)"]
    assert found["toml"][0].startswith("not valid TOML: ")


def test_a_partner_s_message_reaches_the_waiting_case(settings: Settings) -> None:
    package = with_tests(message_package("tunggu", role="waiter"), pesan=(
        APPLY + '[[steps]]\nexpect = { status = "running", stage = "Menunggu", open_tasks = [] }\n'
        '[[steps]]\nmessage = "izin_lokasi_terbit"\ndata = { nomor_izin = "IL-7" }\n'
        'expect = { open_tasks = ["Task_periksa"], data = { izin_lokasi = { nomor_izin = "IL-7" } } }\n'
        '[[steps]]\nmessage = "izin_lokasi_terbit"\n'))
    result = one(package, settings)
    assert messages(result) == ["step 4: case 1 is not waiting for the message 'izin_lokasi_terbit'"]
    assert [e.kind for e in result.trace] == ["apply", "expect", "message", "expect", "failed"]


def test_the_throw_away_copy_leaves_the_platform_database_and_files_untouched(ctx: AppContext) -> None:
    def counts() -> tuple[int, ...]:
        with ctx.sessions() as session:
            return tuple(int(session.scalar(select(func.count()).select_from(t)) or 0)
                         for t in (Case, Job, ProcessVersion, User))

    before = counts()
    results = scenarios.run(packages.from_path(ROOT / "processes" / "pbg"), settings=ctx.settings)
    assert [r.passed for r in results] == [True] * 5
    assert counts() == before == (0, 0, 0, 0)
    assert not ctx.settings.files_dir.exists()  # the issued PBG went to the throw-away folder


def test_roles_the_directory_holds_may_be_used_undeclared(settings: Settings) -> None:
    files = dict(simple_package().files)
    # No [[agencies]]: dinas.petugas is not declared.
    files["service.toml"] = (SERVICE.format(key="uji") + STANDARD).encode()
    package = with_tests(packages.from_files(files), lulus=APPLY + DONE)
    refused = one(package, settings)
    assert not refused.passed
    assert refused.problems[0].text() == "not run: the package does not deploy (fix the errors below first)"
    assert any("dinas.petugas" in p.text() for p in refused.problems[1:])
    assert one(package, settings, known_roles={"dinas.petugas", "lain.peran"}).passed


def test_a_recorded_trial_replays_as_a_passing_scenario(settings: Settings) -> None:
    package = simple_package(shape="wait")
    steps = [{"apply": "daring", "data": {"harga": 2000, "jumlah": 2}},
             {"act": "dinas.petugas", "task": "Task_periksa", "data": {"catatan": "ok"}},
             {"advance": "2 hari kerja"}]
    trial = scenarios.trial(package, steps, settings=settings)
    assert trial.steps == steps
    assert not trial.playback.problems
    assert [t.element_id for t in trial.snapshot.timers] == ["Timer_tunggu"]
    text = scenario_text(trial.steps, trial.playback.snapshots, name_id="Rekaman", name_en="Recorded",
                         start=trial.start, fee_field="total", every_step=True)
    assert "fee = 4000" in text
    assert 'timers = ["Timer_tunggu"]' in text
    result = one(with_tests(package, rekaman=text), settings)
    assert result.passed, messages(result)
    failing = scenarios.trial(package, [*steps, {"act": "dinas.petugas", "data": {}}], settings=settings)
    assert failing.steps == steps
    assert failing.playback.problems[0].text().startswith("step 4: no open task for dinas.petugas")


def required(*tests: tuple[str, str]) -> packages.Package:
    files = dict(simple_package().files)
    files["service.toml"] = (SERVICE.format(key="uji") + "scenarios_required = true\n" + AGENCY).encode()
    return packages.from_files({**files, **{f"tests/{n}.toml": t.encode() for n, t in tests}})


def test_deployment_refuses_a_package_whose_required_scenarios_fail(ctx: AppContext) -> None:
    assert lint_package(required()) == []  # the key is known to lint
    bad = '[[steps]]\nexpect = { status = "cancelled" }\n'
    for package, wanted in ((required(), "the package has no scenario tests (tests/*.toml); they are required"),
                            (required(("salah", APPLY + bad)),
                             'step 2: status: expected "cancelled", got "running"')):
        with pytest.raises(PackageInvalid) as refused, transaction(ctx.sessions) as session:
            registry.deploy(session, package=package)
        assert [p.text() for p in refused.value.problems] == [wanted]
    with transaction(ctx.sessions) as session:
        done = registry.deploy(session, package=required(("baik", APPLY + DONE)))
    assert (done.key, done.version, done.created) == ("uji", 1, True)
    problems = scenarios.scenario_problems(required(("salah", APPLY + bad)), require=True)
    assert [(p.file, p.severity) for p in problems] == [("tests/salah.toml", "error")]


def test_pbg_scenarios_pass_and_report_their_time(settings: Settings) -> None:
    package = packages.from_path(ROOT / "processes" / "pbg")
    scenarios.run(package, settings=settings)  # the first run migrates and deploys the template
    started = time.perf_counter()
    results = scenarios.run(package, settings=settings)
    elapsed = time.perf_counter() - started
    assert [(r.file, r.passed) for r in results] == [("tests/ditolak_tpa.toml", True), ("tests/kedaluwarsa.toml", True),
                                                     ("tests/mbr.toml", True), ("tests/simbg.toml", True),
                                                     ("tests/terbit.toml", True)]
    print(f"PBG: {elapsed / len(results):.3f} s per scenario")  # noqa: T201 - reported, not asserted (see bench/)
