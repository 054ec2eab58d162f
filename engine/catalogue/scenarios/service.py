"""Run a package's scenario tests, tell deployment what failed, and replay a studio trial run."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.cases import service as cases
from engine.cases import tasks as tasks
from engine.catalogue.package import Package
from engine.catalogue.scenarios import world as worlds
from engine.catalogue.scenarios.checks import Labels, Snapshot, labels_of
from engine.catalogue.scenarios.format import (
    DEFAULT_START,
    Scenario,
    ScenarioInvalid,
    from_document,
    parse,
    scenario_files,
)
from engine.catalogue.scenarios.runner import Playback, TraceEntry, play
from engine.errors import DomainError, PackageInvalid, Problem
from engine.settings import Settings, get_settings

TRIAL_FILE = "tests/uji-coba.toml"
_results: OrderedDict[tuple[str, tuple[str, ...]], list[ScenarioResult]] = OrderedDict()
_results_lock = threading.Lock()


@dataclass(frozen=True)
class ScenarioResult:
    """The outcome of one scenario file: passed or not, each problem (file, step), and what happened."""

    file: str
    name_id: str
    name_en: str
    passed: bool
    problems: list[Problem]
    trace: list[TraceEntry]
    seconds: float

    def name(self, lang: str) -> str:
        """Return the scenario's name in a language (id or en)."""
        return self.name_id if lang == "id" else self.name_en


def _channels(package: Package) -> list[str]:
    try:
        channels = package.service().get("channels")
    except PackageInvalid:
        return []
    return [str(c) for c in channels] if isinstance(channels, list) else []


def _failed(file: str, name: str, problems: list[Problem], started: float) -> ScenarioResult:
    return ScenarioResult(file, name, name, False, problems, [], time.perf_counter() - started)


def _internal(file: str, exc: Exception) -> Problem:
    """Word an unexpected failure as a problem of the scenario (never an exception to the caller)."""
    return Problem(file, None, f"the scenario could not run: {type(exc).__name__}: {exc}", "error",
                   f"skenario tidak dapat dijalankan: {type(exc).__name__}: {exc}")


def _play_one(template: worlds.Template, settings: Settings, scenario: Scenario, labels: Labels,
              channels: list[str]) -> Playback:
    world = worlds.open_world(template, settings, scenario.start)
    try:
        return play(world, scenario, labels, channels=channels)
    finally:
        world.close()


def run(package: Package, *, known_roles: set[str] | None = None, settings: Settings | None = None,
        files: list[str] | None = None) -> list[ScenarioResult]:
    """Run every scenario of a package (or the named files), each on its own throw-away database.

    `known_roles` are the real directory's roles: a package may use them without declaring them,
    as deployment allows. Never raises for what a package or a scenario holds: each problem is a
    failed result.
    """
    settings = settings or get_settings()
    names = [n for n in scenario_files(package.files) if files is None or n in files]
    if not names:
        return []
    template = worlds.template_for(package, known_roles)
    labels, channels = labels_of(package), _channels(package)
    results = []
    for name in names:
        started = time.perf_counter()
        try:
            scenario = parse(name, package.files[name])
        except ScenarioInvalid as exc:
            results.append(_failed(name, name, exc.problems, started))
            continue
        if template.path is None:
            results.append(ScenarioResult(name, scenario.name_id, scenario.name_en, False, _undeployable(
                name, template.problems), [], time.perf_counter() - started))
            continue
        try:
            out = _play_one(template, settings, scenario, labels, channels)
        except Exception as exc:  # noqa: BLE001 - a broken package or scenario fails its test, it never crashes the caller
            out = Playback(problems=[_internal(name, exc)])
        results.append(ScenarioResult(name, scenario.name_id, scenario.name_en, not out.problems, out.problems,
                                      out.trace, time.perf_counter() - started))
    return results


def _undeployable(file: str, problems: list[Problem]) -> list[Problem]:
    head = Problem(file, None, "not run: the package does not deploy (fix the errors below first)", "error",
                   "tidak dijalankan: paket tidak dapat diterapkan (perbaiki dulu galat di bawah)")
    return [head, *problems]


def scenario_problems(package: Package, *, known_roles: set[str] | None = None, settings: Settings | None = None,
                      require: bool = False) -> list[Problem]:
    """Return an error per failed scenario (naming its file and step); with `require`, also when there is none.

    What deployment and the studio's publish call. Results are kept by content, so publishing
    right after "run all" does not run the same scenarios twice.
    """
    if require and not scenario_files(package.files):
        return [Problem("tests/", None, "the package has no scenario tests (tests/*.toml); they are required",
                        "error", "paket tidak memiliki skenario uji (tests/*.toml); skenario uji diwajibkan")]
    key = (package.content_hash, tuple(sorted(known_roles or ())))
    with _results_lock:
        results = _results.get(key)
    if results is None:
        results = run(package, known_roles=known_roles, settings=settings)
        with _results_lock:
            _results[key] = results
            while len(_results) > 16:
                _results.popitem(last=False)
    seen: set[tuple[str, str | None, str]] = set()
    problems = []
    for result in results:
        for problem in result.problems:
            if (problem.file, problem.element_id, problem.message) not in seen:
                seen.add((problem.file, problem.element_id, problem.message))
                problems.append(problem)
    return problems


@dataclass
class Trial:
    """A studio trial run replayed: what happened, the case now, and the forms of what can be done next."""

    steps: list[dict[str, Any]]  # the steps that ran, as the scenario format writes them
    playback: Playback
    start: datetime
    labels: Labels = field(default_factory=Labels)
    channels: list[str] = field(default_factory=list)
    deploy_problems: list[Problem] = field(default_factory=list)
    start_form: tuple[dict[str, Any], dict[str, Any] | None] | None = None
    task_forms: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]] = field(default_factory=dict)

    @property
    def snapshot(self) -> Snapshot:
        """Return the case as the trial left it."""
        return self.playback.snapshot or Snapshot(self.start)


def trial(package: Package, steps: list[dict[str, Any]], *, start: datetime | None = None,
          known_roles: set[str] | None = None, settings: Settings | None = None) -> Trial:
    """Replay a trial's steps on a throw-away copy; a failing last step is reported and left out of `steps`."""
    settings, start = settings or get_settings(), start or DEFAULT_START
    labels, channels = labels_of(package), _channels(package)
    template = worlds.template_for(package, known_roles)
    if template.path is None:
        return Trial([], Playback(), start, labels, channels, template.problems)
    try:
        scenario = from_document(TRIAL_FILE, {"start": start.isoformat(), "steps": steps}) if steps else Scenario(
            TRIAL_FILE, "", "", start, [])
    except ScenarioInvalid as exc:
        return Trial([], Playback(problems=exc.problems), start, labels, channels)
    world = worlds.open_world(template, settings, scenario.start)
    try:
        try:
            out = play(world, scenario, labels, channels=channels)
        except Exception as exc:  # noqa: BLE001 - as in run(): a broken package fails the trial, not the page
            out = Playback(problems=[_internal(TRIAL_FILE, exc)])
        result = Trial(steps[:out.done], out, scenario.start, labels, channels)
        _forms(world, result)
    finally:
        world.close()
    return result


def _forms(world: worlds.World, result: Trial) -> None:
    """Attach the start form (before the application) or the forms of the open tasks."""
    with world.sessions() as session:
        try:
            if result.playback.case_id is None:
                form = cases.start_form(session, rt=world.rt, process_key=world.key)
                result.start_form = (form.schema, form.ui_schema)
                return
            compiled = world.rt.specs.latest(session, world.key)
        except DomainError:
            return
        if compiled is None:
            return
        for task in result.snapshot.open_tasks:
            result.task_forms[task.element_id] = tasks.form_schemas(compiled[1], compiled[1].by_element.get(
                task.element_id))
