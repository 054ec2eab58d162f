"""What a case shows after a step (a snapshot of its read models) and how `expect` is checked against it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lxml import etree

from engine.catalogue.package import Package
from engine.catalogue.scenarios.format import WIB, Scenario
from engine.errors import DomainError, Problem

SHOWN_CHARS = 300


@dataclass(frozen=True)
class TaskView:
    """An open user task as the inbox shows it."""

    task_id: str
    element_id: str
    name: str
    role: str
    bound_org: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class TimerView:
    """A timer the case waits on, with its due time on the engine's clock."""

    element_id: str
    name: str
    due_at: datetime


@dataclass(frozen=True)
class Snapshot:
    """The case after a step, read from what the pages read (status empty: no application yet)."""

    at: datetime
    case_id: int | None = None
    tracking_number: str = ""
    status: str = ""
    stage_id: str = ""
    stage_en: str = ""
    outcome: str | None = None  # the end event's name
    end: str | None = None  # the end event's id
    path: list[str] = field(default_factory=list)
    open_tasks: list[TaskView] = field(default_factory=list)
    timers: list[TimerView] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    documents: list[tuple[str, str, str]] = field(default_factory=list)  # title id, title en, number
    incident: tuple[str, str] | None = None  # element id, message
    due_at: datetime | None = None  # the case's due date (engine/sla: sla_days or the case's own time limit)


@dataclass(frozen=True)
class Labels:
    """The names of a package's BPMN elements by id, and which of them are end events."""

    names: dict[str, str] = field(default_factory=dict)
    ends: dict[str, str] = field(default_factory=dict)

    def name(self, element_id: str | None) -> str:
        """Return an element's name, or "" when it has none."""
        return self.names.get(element_id or "", "")


def labels_of(package: Package) -> Labels:
    """Read element names (and end events) from the package's diagrams."""
    names: dict[str, str] = {}
    ends: dict[str, str] = {}
    for file in package.bpmn_files:
        try:
            root = package.xml(file)
        except (DomainError, ValueError, etree.LxmlError):  # lint reports it; names are only for display
            continue
        for element in root.iter():
            if not isinstance(element.tag, str) or not element.get("id"):
                continue
            names.setdefault(element.get("id"), (element.get("name") or "").strip())
            if etree.QName(element).localname == "endEvent":
                ends[element.get("id")] = (element.get("name") or "").strip()
    return Labels(names, ends)


def end_id(outcome: str | None, labels: Labels) -> str | None:
    """Return the id of the end event a completed case reached, from the name the case row keeps."""
    if outcome is None:
        return None
    if outcome in labels.ends:
        return outcome
    return next((eid for eid, name in labels.ends.items() if name == outcome), outcome)


def show(value: Any) -> str:
    """Write a value for a message, as in the scenario file (JSON-like, shortened)."""
    text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def same(expected: Any, actual: Any) -> bool:
    """Tell whether a value from the file equals one from the case (numbers by value, TOML dates as ISO text)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual
    if isinstance(expected, datetime | date):
        if isinstance(actual, str) and actual == expected.isoformat():
            return True
        try:
            return isinstance(actual, str) and type(expected).fromisoformat(actual) == expected
        except ValueError:
            return False
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            same(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(actual) == set(expected) and all(
            same(v, actual[k]) for k, v in expected.items())
    return bool(expected == actual)


WHAT = {
    "status": ("status", "status"), "end": ("end event", "peristiwa akhir"),
    "path": ("completed tasks in order", "urutan tugas yang selesai"), "stage": ("stage", "tahap"),
    "open_tasks": ("open tasks", "tugas terbuka"), "timers": ("waiting timers", "pengatur waktu yang menunggu"),
    "documents": ("documents issued", "dokumen terbit"), "incident": ("incident", "insiden"),
    "due": ("due date (WIB)", "batas waktu (WIB)"),
}


class _Report:
    def __init__(self, scenario: Scenario, number: int) -> None:
        self.scenario, self.number, self.problems = scenario, number, list[Problem]()

    def mismatch(self, what: tuple[str, str], expected: str, actual: str, element: str | None = None) -> None:
        self.problems.append(Problem(
            self.scenario.file, element, f"step {self.number}: {what[0]}: expected {expected}, got {actual}", "error",
            f"langkah {self.number}: {what[1]}: diharapkan {expected}, ternyata {actual}"))


def compare(scenario: Scenario, number: int, expect: dict[str, Any], shot: Snapshot, labels: Labels) -> list[Problem]:
    """Check each expectation of a step against the case; return one problem per mismatch."""
    report = _Report(scenario, number)
    if "status" in expect and expect["status"] != shot.status:
        report.mismatch(WHAT["status"], show(expect["status"]), show(shot.status or None))
    if "end" in expect and expect["end"] not in (shot.end, shot.outcome):
        reached = show(shot.end) + (f" ({shot.outcome})" if shot.outcome and shot.outcome != shot.end else "")
        report.mismatch(WHAT["end"], show(expect["end"]), reached if shot.end else "null", expect["end"])
    if "path" in expect and list(expect["path"]) != shot.path:
        report.mismatch(WHAT["path"], show(expect["path"]), show(shot.path))
    if "stage" in expect and expect["stage"] not in (shot.stage_id, shot.stage_en):
        report.mismatch(WHAT["stage"], show(expect["stage"]), show(shot.stage_id))
    if "open_tasks" in expect:
        _open_tasks(report, expect["open_tasks"], shot)
    if "timers" in expect:
        waiting = sorted(t.element_id for t in shot.timers)
        if sorted(expect["timers"]) != waiting:
            report.mismatch(WHAT["timers"], show(sorted(expect["timers"])), show(waiting))
    for key, value in (expect.get("data") or {}).items():
        _data(report, (f"data '{key}'", f"data '{key}'"), key, value, shot.data)
    if "fee" in expect and scenario.fee_field:
        field_name = scenario.fee_field
        _data(report, (f"fee ({field_name})", f"biaya ({field_name})"), field_name, expect["fee"], shot.data)
    if "documents" in expect:
        _documents(report, expect["documents"], shot)
    if "incident" in expect:
        _incident(report, expect["incident"], shot)
    if "due" in expect:
        _due(report, expect["due"], shot)
    return report.problems


def _due(report: _Report, expected: date | datetime, shot: Snapshot) -> None:
    # A date compares with the due date's day in WIB; a date-time with the instant (no offset: WIB).
    if isinstance(expected, datetime) and expected.tzinfo is None:
        expected = expected.replace(tzinfo=WIB)
    local = shot.due_at.astimezone(WIB) if shot.due_at is not None else None
    actual: date | datetime | None = local if isinstance(expected, datetime) or local is None else local.date()
    if actual != expected:
        report.mismatch(WHAT["due"], show(expected.isoformat()), show(actual.isoformat() if actual else None))


def _data(report: _Report, what: tuple[str, str], key: str, value: Any, data: dict[str, Any]) -> None:
    if key not in data:
        report.problems.append(Problem(
            report.scenario.file, None, f"step {report.number}: {what[0]}: expected {show(value)}, but it is not set",
            "error", f"langkah {report.number}: {what[1]}: diharapkan {show(value)}, tetapi tidak diisi"))
    elif not same(value, data[key]):
        report.mismatch(what, show(value), show(data[key]))


def _open_tasks(report: _Report, expected: list[Any], shot: Snapshot) -> None:
    wanted = sorted((e, None) if isinstance(e, str) else (e["task"], e.get("role")) for e in expected)
    actual = sorted((t.element_id, t.role) for t in shot.open_tasks)
    ok = len(wanted) == len(actual) and all(
        w[0] == a[0] and (w[1] is None or w[1] == a[1]) for w, a in zip(wanted, actual, strict=True))
    if not ok:
        report.mismatch(WHAT["open_tasks"], show([w[0] if w[1] is None else f"{w[0]} ({w[1]})" for w in wanted]),
                        show([f"{a[0]} ({a[1]})" for a in actual]))


def _documents(report: _Report, expected: list[str], shot: Snapshot) -> None:
    left = list(shot.documents)
    for wanted in expected:
        match = next((d for d in left if wanted in d), None)
        if match is None:
            break
        left.remove(match)
    else:
        if not left:
            return
    report.mismatch(WHAT["documents"], show(expected), show([f"{t} {n}".strip() for t, _en, n in shot.documents]))


def _incident(report: _Report, expected: str, shot: Snapshot) -> None:
    if shot.incident is not None and (expected == shot.incident[0] or expected in shot.incident[1]):
        return
    actual = f"{shot.incident[0]}: {shot.incident[1]}" if shot.incident else None
    report.mismatch(WHAT["incident"], show(expected), show(actual))
