"""The scenario file format: `tests/<name>.toml` in a package, read into steps (docs/scenarios.md).

A scenario names who acts, with what data, how the simulated clock moves, and what the case must
show at chosen points. This module only reads and writes the files; `runner` plays them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import PackageInvalid, Problem

WIB = ZoneInfo("Asia/Jakarta")
FOLDER = "tests/"
# Monday 2 March 2026, 09:00 WIB: a plain working week with no holiday in it.
DEFAULT_START = datetime(2026, 3, 2, 9, 0, tzinfo=WIB)
MAX_STEPS = 500
STATUSES = ("running", "completed", "cancelled", "incident")
EXPECT_KEYS = ("status", "end", "path", "stage", "open_tasks", "timers", "data", "fee", "documents", "incident",
               "due")
ACTIONS = ("apply", "act", "advance", "until", "message", "answer")
STEP_KEYS = (*ACTIONS, "task", "data", "expect", "note")
TOP_KEYS = ("name", "start", "fee_field", "steps", "description")
NEXT_TIMER = ("next timer", "pengatur waktu berikutnya")
_SPAN = re.compile(r"^\s*(\d{1,4})\s*(working days?|hari kerja|days?|hari|hours?|jam|minutes?|menit)\s*$", re.I)
_ISO = re.compile(r"^P(?:(\d{1,4})W)?(?:(\d{1,4})D)?(?:T(?:(\d{1,5})H)?(?:(\d{1,6})M)?(?:(\d{1,7})S)?)?$")


@dataclass(frozen=True)
class Apply:
    """The applicant files the application through a channel with the start form's data."""

    channel: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Act:
    """Someone holding `role` completes an open task (the one with BPMN id `task` when given)."""

    role: str
    task: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Advance:
    """Move the clock: working days on the calendar, a fixed span, or up to the next timer."""

    text: str
    working_days: int = 0
    span: timedelta = timedelta(0)
    next_timer: bool = False


@dataclass(frozen=True)
class Until:
    """Move the clock to an instant."""

    at: datetime


@dataclass(frozen=True)
class Message:
    """A partner system's message (by BPMN message name) reaches the case."""

    name: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """A partner system answers a `store` operation (connectors.toml): its mapped fields land in the case."""

    operation: str
    data: dict[str, Any]


Action = Apply | Act | Advance | Until | Message | Answer


@dataclass(frozen=True)
class Step:
    """One `[[steps]]` entry: an action, then what the case must show (either may be absent)."""

    number: int
    action: Action | None
    expect: dict[str, Any] | None


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file."""

    file: str
    name_id: str
    name_en: str
    start: datetime
    steps: list[Step]
    fee_field: str | None = None


@dataclass
class _Errors:
    file: str
    found: list[tuple[int, Problem]] = field(default_factory=list)

    def add(self, step: int | None, en: str, id_: str) -> None:
        where_en, where_id = (f"step {step}: ", f"langkah {step}: ") if step else ("", "")
        self.found.append((step or 0, Problem(self.file, None, where_en + en, "error", where_id + id_)))

    @property
    def problems(self) -> list[Problem]:
        """Return the problems in file order: the top first, then step by step."""
        return [problem for _step, problem in sorted(self.found, key=lambda item: item[0])]


class ScenarioInvalid(PackageInvalid):
    """A scenario file cannot be read; `problems` says where and why (both languages)."""


def scenario_files(files: dict[str, bytes]) -> list[str]:
    """Return the package paths of the scenario files, in name order."""
    return sorted(n for n in files if n.startswith(FOLDER) and n.endswith(".toml") and n.count("/") == 1)


def parse(name: str, raw: bytes) -> Scenario:
    """Read one scenario file; raise ScenarioInvalid naming each problem (file, step, fix)."""
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioInvalid([Problem(name, None, "the file is not UTF-8 text", "error",
                                       "berkas bukan teks UTF-8")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioInvalid([Problem(name, None, f"not valid TOML: {exc}", "error",
                                       f"bukan TOML yang sah: {exc}")]) from None
    return from_document(name, doc)


def from_document(name: str, doc: dict[str, Any]) -> Scenario:
    """Read a scenario from its parsed form (TOML, or the studio's JSON where dates are ISO text)."""
    errors = _Errors(name)
    for key in sorted(set(doc) - set(TOP_KEYS)):
        errors.add(None, f"unknown key '{key}' (allowed: {', '.join(TOP_KEYS)})",
                   f"kunci '{key}' tidak dikenal (yang boleh: {', '.join(TOP_KEYS)})")
    name_id, name_en = _names(doc.get("name"), name, errors)
    start = _start(doc.get("start"), errors)
    fee_field = doc.get("fee_field")
    if fee_field is not None and not isinstance(fee_field, str):
        errors.add(None, "fee_field must be the name of a data field", "fee_field harus berupa nama kolom data")
        fee_field = None
    steps = _steps(doc.get("steps"), errors, fee_field)
    if errors.problems:
        raise ScenarioInvalid(errors.problems)
    return Scenario(name, name_id, name_en, start, steps, fee_field)


def _names(value: Any, file: str, errors: _Errors) -> tuple[str, str]:
    if value is None:
        stem = file.removeprefix(FOLDER).removesuffix(".toml")
        return stem, stem
    if isinstance(value, str) and value.strip():
        return value.strip(), value.strip()
    if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"].strip():
        en = value.get("en")
        return value["id"].strip(), (en.strip() if isinstance(en, str) and en.strip() else value["id"].strip())
    errors.add(None, 'name must be text or { id = "...", en = "..." }',
               'name harus berupa teks atau { id = "...", en = "..." }')
    return file, file


def _instant(value: Any) -> Any:
    """Read ISO text as a date-time (JSON has no dates); leave anything else as it is."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _start(value: Any, errors: _Errors) -> datetime:
    value = _instant(value)
    if value is None:
        return DEFAULT_START
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, datetime):  # a local date-time means WIB, as everywhere in the platform
        return value.replace(tzinfo=WIB)
    if isinstance(value, date):
        return datetime.combine(value, time(9, 0), WIB)
    errors.add(None, 'start must be a date-time such as 2026-03-02T09:00:00+07:00',
               'start harus berupa tanggal dan waktu seperti 2026-03-02T09:00:00+07:00')
    return DEFAULT_START


def _steps(value: Any, errors: _Errors, fee_field: str | None) -> list[Step]:
    if not isinstance(value, list) or not value:
        errors.add(None, "the scenario has no [[steps]]", "skenario tidak memiliki [[steps]]")
        return []
    if len(value) > MAX_STEPS:
        errors.add(None, f"at most {MAX_STEPS} steps", f"paling banyak {MAX_STEPS} langkah")
        return []
    steps = [_step(number, entry, errors, fee_field) for number, entry in enumerate(value, start=1)]
    first = steps[0].action if steps else None
    if steps and not isinstance(first, Apply):
        errors.add(1, 'the first step must file the application: apply = "<channel>"',
                   'langkah pertama harus mengajukan permohonan: apply = "<kanal>"')
    for step in steps[1:]:
        if isinstance(step.action, Apply):
            errors.add(step.number, "a scenario files one application, in its first step",
                       "satu skenario mengajukan satu permohonan, pada langkah pertamanya")
    return steps


def _step(number: int, entry: Any, errors: _Errors, fee_field: str | None) -> Step:
    if not isinstance(entry, dict):
        errors.add(number, "each step is a table: [[steps]]", "setiap langkah berupa tabel: [[steps]]")
        return Step(number, None, None)
    for key in sorted(set(entry) - set(STEP_KEYS)):
        errors.add(number, f"unknown key '{key}' (allowed: {', '.join(STEP_KEYS)})",
                   f"kunci '{key}' tidak dikenal (yang boleh: {', '.join(STEP_KEYS)})")
    actions = [key for key in ACTIONS if key in entry]
    if len(actions) > 1:
        errors.add(number, f"one action per step, not {', '.join(actions)}",
                   f"satu tindakan per langkah, bukan {', '.join(actions)}")
    data = entry.get("data", {})
    if not isinstance(data, dict):
        errors.add(number, "data must be a table of field values", "data harus berupa tabel nilai kolom")
        data = {}
    data = _as_json(data)
    action = _action(number, actions[0], entry, data, errors) if len(actions) == 1 else None
    if action is None and not actions and ("data" in entry or "task" in entry):
        errors.add(number, "data and task belong to an action (apply, act, message or answer)",
                   "data dan task milik suatu tindakan (apply, act, message atau answer)")
    expect = entry.get("expect")
    if expect is not None:
        expect = _expect(number, expect, errors, fee_field)
    if action is None and expect is None and not actions:
        errors.add(number, f"the step does nothing: give one of {', '.join(ACTIONS)} or expect",
                   f"langkah ini tidak melakukan apa pun: isi salah satu dari {', '.join(ACTIONS)} atau expect")
    return Step(number, action, expect)


def _as_json(value: Any) -> Any:
    """Write TOML dates and times as the ISO text a form receives (JSON has no dates)."""
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _as_json(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_as_json(child) for child in value]
    return value


def _action(number: int, kind: str, entry: dict[str, Any], data: dict[str, Any], errors: _Errors) -> Action | None:
    value = entry[kind]
    if kind in ("apply", "act", "message", "answer") and not (isinstance(value, str) and value.strip()):
        what = {"apply": ("the channel", "kanal"), "act": ("the role", "peran"),
                "message": ("the message name", "nama pesan"),
                "answer": ("the operation (connectors.toml)", "operasi (connectors.toml)")}[kind]
        errors.add(number, f"{kind} must name {what[0]}", f"{kind} harus menyebut {what[1]}")
        return None
    if "task" in entry and (kind != "act" or not isinstance(entry["task"], str)):
        errors.add(number, "task (a BPMN task id) goes with act", "task (id tugas BPMN) menyertai act")
    if kind == "apply":
        return Apply(str(value).strip(), data)
    if kind == "act":
        task = entry.get("task")
        return Act(str(value).strip(), task.strip() if isinstance(task, str) and task.strip() else None, data)
    if kind == "message":
        return Message(str(value).strip(), data)
    if kind == "answer":
        return Answer(str(value).strip(), data)
    if data:
        errors.add(number, f"{kind} takes no data", f"{kind} tidak menerima data")
    if kind == "until":
        return _until(number, value, errors)
    return advance_of(number, value, errors)


def _until(number: int, value: Any, errors: _Errors) -> Until | None:
    value = _instant(value)
    if isinstance(value, datetime):
        return Until(value if value.tzinfo is not None else value.replace(tzinfo=WIB))
    errors.add(number, "until must be a date-time such as 2026-04-13T09:00:00+07:00",
               "until harus berupa tanggal dan waktu seperti 2026-04-13T09:00:00+07:00")
    return None


def advance_of(number: int, value: Any, errors: _Errors) -> Advance | None:
    """Read an `advance` value: "3 working days", "2 hari", "4 jam", "P2D", "PT4H" or "next timer"."""
    text = value.strip() if isinstance(value, str) else ""
    if text.lower() in NEXT_TIMER:
        return Advance(text, next_timer=True)
    found = _SPAN.match(text)
    if found:
        amount, unit = int(found[1]), found[2].lower()
        if unit.startswith(("working", "hari kerja")):
            return Advance(text, working_days=amount)
        if unit.startswith(("day", "hari")):
            return Advance(text, span=timedelta(days=amount))
        if unit.startswith(("hour", "jam")):
            return Advance(text, span=timedelta(hours=amount))
        return Advance(text, span=timedelta(minutes=amount))
    iso = _ISO.match(text.upper()) if text.upper() not in ("P", "PT") else None
    if iso and any(iso.groups()):
        weeks, days, hours, minutes, seconds = (int(g or 0) for g in iso.groups())
        return Advance(text, span=timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds))
    errors.add(number, f'advance "{text}": write "3 working days", "2 days", "4 hours", an ISO duration '
               '("P2D", "PT4H") or "next timer"',
               f'advance "{text}": tulis "3 hari kerja", "2 hari", "4 jam", durasi ISO ("P2D", "PT4H") '
               'atau "pengatur waktu berikutnya"')
    return None


def _expect(number: int, value: Any, errors: _Errors, fee_field: str | None) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        errors.add(number, "expect must be a table", "expect harus berupa tabel")
        return None
    for key in sorted(set(value) - set(EXPECT_KEYS)):
        errors.add(number, f"expect: unknown key '{key}' (allowed: {', '.join(EXPECT_KEYS)})",
                   f"expect: kunci '{key}' tidak dikenal (yang boleh: {', '.join(EXPECT_KEYS)})")
    if "status" in value and value["status"] not in STATUSES:
        errors.add(number, f"expect.status must be one of {', '.join(STATUSES)}",
                   f"expect.status harus salah satu dari {', '.join(STATUSES)}")
    for key in ("end", "stage", "incident"):
        if key in value and not isinstance(value[key], str):
            errors.add(number, f"expect.{key} must be text", f"expect.{key} harus berupa teks")
    for key in ("path", "timers", "documents"):
        if key in value and not (isinstance(value[key], list) and all(isinstance(v, str) for v in value[key])):
            errors.add(number, f"expect.{key} must be a list of texts", f"expect.{key} harus berupa daftar teks")
    if "open_tasks" in value and not _open_tasks_ok(value["open_tasks"]):
        errors.add(number, 'expect.open_tasks lists task ids or { task = "...", role = "..." }',
                   'expect.open_tasks berisi id tugas atau { task = "...", role = "..." }')
    if "data" in value and not isinstance(value["data"], dict):
        errors.add(number, "expect.data must be a table", "expect.data harus berupa tabel")
    if "due" in value and not isinstance(value["due"], date | datetime):
        errors.add(number, "expect.due must be a TOML date (2026-03-16) or date-time with offset",
                   "expect.due harus berupa tanggal TOML (2026-03-16) atau tanggal-waktu dengan zona")
    if "fee" in value:
        if isinstance(value["fee"], bool) or not isinstance(value["fee"], int | float):
            errors.add(number, "expect.fee must be a number", "expect.fee harus berupa angka")
        if not fee_field:
            errors.add(number, 'expect.fee needs fee_field = "<data field>" at the top of the file',
                       'expect.fee memerlukan fee_field = "<kolom data>" di awal berkas')
    return value


def _open_tasks_ok(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    return all(isinstance(v, str) or (isinstance(v, dict) and isinstance(v.get("task"), str)
                                      and set(v) <= {"task", "role"} and isinstance(v.get("role", ""), str))
               for v in value)
