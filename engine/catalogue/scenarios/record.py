"""Write a studio trial run as a scenario file: its steps, then what the case showed at the end."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import tomlkit
from tomlkit.items import AoT, InlineTable, Table

from engine.catalogue.scenarios.checks import Snapshot
from engine.catalogue.scenarios.format import WIB, Act, Advance, Apply, Message, Scenario, Until

INLINE_CHARS = 90
ACTION_KEYS = ("apply", "act", "task", "advance", "until", "message")


def _plain(value: Any) -> Any:
    """Drop what TOML cannot hold (null), keep the rest as it is."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value if v is not None]
    return value


def _item(value: Any) -> Any:
    """Return a value as TOML writes it best: lists of tables as arrays of inline tables."""
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        array = tomlkit.array()
        for child in value:
            array.append(_inline(child) if isinstance(child, dict) else child)
        return array
    return _inline(value) if isinstance(value, dict) else value


def _inline(values: dict[str, Any]) -> InlineTable:
    table = tomlkit.inline_table()
    for key, value in values.items():
        table[key] = _item(value)
    return table


def _table(values: dict[str, Any]) -> InlineTable | Table:
    """Return a short table inline (`data = { ... }`) and a long one as its own `[steps.data]` section."""
    values = _plain(values)
    if len(json.dumps(values, ensure_ascii=False, default=str)) <= INLINE_CHARS:
        return _inline(values)
    table = tomlkit.table()
    for key, value in values.items():
        table[key] = _item(value)
    return table


def _expect(shot: Snapshot, typed: set[str], fee_field: str | None, *, full: bool) -> dict[str, Any]:
    expect: dict[str, Any] = {"status": shot.status}
    if shot.end:
        expect["end"] = shot.end
    expect["stage"] = shot.stage_id
    expect["open_tasks"] = [{"task": t.element_id, "role": t.role} for t in shot.open_tasks]
    if not full:
        return expect
    expect["path"] = list(shot.path)
    expect["timers"] = sorted(t.element_id for t in shot.timers)
    if fee_field and isinstance(shot.data.get(fee_field), int | float):
        expect["fee"] = shot.data[fee_field]
    expect["documents"] = [title for title, _en, _number in shot.documents]
    if shot.incident is not None:
        expect["incident"] = shot.incident[0]
    computed = {k: v for k, v in sorted(shot.data.items()) if k not in typed and k != "channel" and v is not None}
    if computed:
        expect["data"] = computed
    return expect


def computed_fields(steps: list[dict[str, Any]], shot: Snapshot) -> list[str]:
    """Return the case's data fields that no step typed in (what scripts and decisions computed)."""
    typed = {key for step in steps for key in (step.get("data") or {})}
    return [k for k in sorted(shot.data) if k not in typed and k != "channel" and shot.data[k] is not None]


def scenario_text(steps: list[dict[str, Any]], shots: list[Snapshot], *, name_id: str, name_en: str, start: datetime,
                  fee_field: str | None = None, every_step: bool = False, note: str = "") -> str:
    """Return the TOML of a scenario: the trial's steps, and the final state as the last step's expectations.

    `shots[i]` is the case after step i+1; with `every_step`, each step also expects the status,
    stage and open tasks it left.
    """
    doc = tomlkit.document()
    if note:
        doc.add(tomlkit.comment(note))
    doc.add(tomlkit.comment("Scenario test (docs/scenarios.md), recorded in the studio's trial run (Uji coba)."))
    name = tomlkit.inline_table()
    name.update({"id": name_id, "en": name_en or name_id})
    doc["name"] = name
    doc["start"] = start.astimezone(WIB)
    if fee_field:
        doc["fee_field"] = fee_field
    typed = {key for step in steps for key in (step.get("data") or {})}
    entries: AoT = tomlkit.aot()
    for index, step in enumerate(steps):
        entry = tomlkit.table()
        for key in ACTION_KEYS:
            if key in step:
                entry[key] = datetime.fromisoformat(step[key]).astimezone(WIB) if key == "until" else step[key]
        if step.get("data"):
            entry["data"] = _table(step["data"])
        if every_step and index < len(shots) and index < len(steps) - 1:
            entry["expect"] = _table(_expect(shots[index], typed, fee_field, full=False))
        entries.append(entry)
    if shots:
        last = tomlkit.table()
        expect = tomlkit.table()
        for key, value in _expect(shots[-1], typed, fee_field, full=True).items():
            expect[key] = _table(value) if isinstance(value, dict) else _item(value)
        last["expect"] = expect
        entries.append(last)
    doc["steps"] = entries
    return tomlkit.dumps(doc)


def action_steps(scenario: Scenario) -> list[dict[str, Any]]:
    """Return a scenario's actions as the studio's trial keeps them (its expectations left out)."""
    steps: list[dict[str, Any]] = []
    for step in scenario.steps:
        action = step.action
        if isinstance(action, Apply):
            steps.append({"apply": action.channel, "data": action.data})
        elif isinstance(action, Act):
            steps.append({"act": action.role, "data": action.data} | ({"task": action.task} if action.task else {}))
        elif isinstance(action, Advance):
            steps.append({"advance": action.text})
        elif isinstance(action, Until):
            steps.append({"until": action.at.isoformat()})
        elif isinstance(action, Message):
            steps.append({"message": action.name, "data": action.data})
    return steps
