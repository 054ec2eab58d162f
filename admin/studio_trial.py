"""Scenario tests in the studio: a trial run on a throw-away copy (Uji coba), recorded and replayed.

The trial's state is the list of steps taken so far, carried in the page (a hidden field) and
replayed on a fresh throw-away database at every action: deterministic, nothing stored, nothing
sent. Saving writes the steps and the final state as `tests/<name>.toml` in the draft.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from admin.studio_shared import missing_draft, problems_json
from engine.catalogue import drafts, registry, scenarios
from engine.catalogue.drafts import DraftConflict
from engine.catalogue.scenarios import checks, record
from engine.catalogue.scenarios.checks import Snapshot
from engine.catalogue.scenarios.format import DEFAULT_START, WIB
from engine.directory.actors import Actor
from engine.errors import DomainError, InvalidInput, PackageInvalid
from engine.models import PackageDraft
from forms.validation import FormInvalid
from web.deps import CsrfForm, ModelerPageActor, RuntimeDep, SessionDep
from web.jsonform import Field, build_fields, read_form
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(FsPath(__file__).resolve().parent / "templates")
DraftId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_STEPS = 200
MAX_STATE_CHARS = 512 * 1024
STEP_KEYS = {"apply", "act", "task", "data", "advance", "until", "message"}
FILE_STEM = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
UNITS = {"hari_kerja": ("hari kerja", "working days"), "hari": ("hari", "days"), "jam": ("jam", "hours")}
DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember")


class TrialInput(InvalidInput):
    """What the analyst posted cannot be used (bad state, bad JSON, bad number)."""



def _local(instant: datetime) -> datetime:
    """Return an instant in WIB, rounded up to the second (the engine places timers a few microseconds early)."""
    whole = instant.replace(microsecond=0) + timedelta(seconds=1 if instant.microsecond else 0)
    return whole.astimezone(WIB)


def clock_text(instant: datetime, lang: str) -> str:
    """Write a simulated-clock instant for people: weekday, date and time in WIB."""
    local = _local(instant)
    if lang == "en":
        return local.strftime("%A %d %B %Y, %H:%M WIB")
    return f"{DAYS_ID[local.weekday()]}, {local.day} {MONTHS_ID[local.month - 1]} {local.year}, {local:%H:%M} WIB"


def short_clock(instant: datetime, lang: str) -> str:
    """Write an instant briefly: abbreviated weekday (working days matter), date and time in WIB."""
    local = _local(instant)
    day = local.strftime("%a") if lang == "en" else DAYS_ID[local.weekday()][:3]
    return f"{day} {local:%d-%m-%Y %H:%M}"


# ---------------------------------------------------------------------------- reading what was posted


def _text(form: FormData, name: str, limit: int = 255) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _steps_of(form: FormData) -> list[dict[str, Any]]:
    raw = form.get("langkah")
    if not isinstance(raw, str) or not raw.strip():
        return []
    if len(raw) > MAX_STATE_CHARS:
        raise TrialInput("the trial is too long to replay", message_id="uji coba terlalu panjang untuk diputar ulang")
    try:
        steps = json.loads(raw)
    except json.JSONDecodeError:
        steps = None
    if not isinstance(steps, list) or len(steps) > MAX_STEPS or not all(
            isinstance(s, dict) and set(s) <= STEP_KEYS for s in steps):
        raise TrialInput("the trial's steps cannot be read; start again",
                         message_id="langkah uji coba tidak dapat dibaca; mulai lagi")
    return steps


def _start_of(form: FormData) -> datetime:
    raw = _text(form, "mulai", 40)
    if not raw:
        return DEFAULT_START
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise TrialInput(f"'{raw}' is not a date and time", message_id=f"'{raw}' bukan tanggal dan waktu") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=WIB)


def _data_of(form: FormData, schema: dict[str, Any] | None, ui: dict[str, Any] | None) -> dict[str, Any]:
    """Read the data of the start or task form: the JSON box when filled, else the form's fields."""
    raw = _text(form, "data_json", 200_000)
    if raw:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TrialInput(f"the JSON data cannot be read: {exc}",
                             message_id=f"data JSON tidak terbaca: {exc}") from None
        if not isinstance(data, dict):
            raise TrialInput("the JSON data must be an object { ... }",
                             message_id="data JSON harus berupa objek { ... }")
        return data
    data, _uploads = read_form(schema or {"type": "object", "properties": {}}, ui, form, skip=("channel",))
    return data


def _advance_of(form: FormData) -> dict[str, Any]:
    until = _text(form, "sampai", 40)
    if until:
        return {"until": until}
    amount, unit = _text(form, "jumlah", 6), _text(form, "satuan", 20)
    if not amount.isdigit() or not 1 <= int(amount) <= 400 or unit not in UNITS:
        raise TrialInput("give a whole number from 1 to 400 and a unit",
                         message_id="isi bilangan bulat 1 sampai 400 dan satuannya")
    return {"advance": f"{int(amount)} {UNITS[unit][0]}"}


# ---------------------------------------------------------------------------- the page


def _trial(session: Session, rt: RuntimeDep, row: PackageDraft, steps: list[dict[str, Any]],
           start: datetime) -> scenarios.Trial:
    """Replay the steps on a fresh copy of the draft (a draft that breaks the package limits: its problems)."""
    try:
        package = drafts.package_of(session, row)
    except PackageInvalid as exc:
        return scenarios.Trial([], scenarios.Playback(), start, deploy_problems=exc.problems)
    return scenarios.trial(package, steps, start=start, known_roles=registry.known_roles(session),
                           settings=rt.settings)


def _fields(lang: str, schema: dict[str, Any] | None, ui: dict[str, Any] | None,
            values: dict[str, Any]) -> tuple[list[Field] | None, list[str]]:
    """Return a form's fields without its uploads (a trial stores no files), and the upload fields' names."""
    try:
        fields = build_fields(schema or {"type": "object", "properties": {}}, ui, lang=lang, values=values,
                              skip=("channel",))
    except FormInvalid:
        return None, []  # a form the platform would refuse: the JSON box is the way in
    return [f for f in fields if f.kind != "files"], [f.name for f in fields if f.kind == "files"]


def _chosen(shot: Snapshot, wanted: str) -> Any:
    return next((t for t in shot.open_tasks if t.element_id == wanted), shot.open_tasks[0] if shot.open_tasks else None)


def _render(request: Request, session: Session, row: PackageDraft, result: scenarios.Trial, *, chosen: str = "",
            values: dict[str, Any] | None = None, error: str = "", message: str = "",
            runs: list[scenarios.ScenarioResult] | None = None, save: dict[str, str] | None = None,
            status: int = 200) -> Response:
    lang = language(request)
    shot = result.snapshot
    task = _chosen(shot, chosen)
    form: list[Field] | None = None
    uploads: list[str] = []
    if result.playback.case_id is None and result.start_form is not None:
        form, uploads = _fields(lang, *result.start_form, values or {})
    elif task is not None:
        schema, ui = result.task_forms.get(task.element_id, (None, None))
        props = (schema or {}).get("properties") or {}
        shown = values if values is not None else {k: shot.data[k] for k in props if k in shot.data}
        form, uploads = _fields(lang, schema, ui, shown)
    problems = problems_json(result.deploy_problems or result.playback.problems, lang)
    if error:
        problems = [{"file": "", "element_id": None, "element_name": "", "message": error, "severity": "error",
                     "severity_label": pick(lang, "galat", "error")}, *problems]
    files = scenarios.scenario_files(dict.fromkeys(drafts.file_revisions(session, row), b""))
    computed = record.computed_fields(result.steps, shot)
    return pages.render(request, "studio/trial.html", {
        "d": row, "trial": result, "shot": shot, "task": task, "form": form, "uploads": uploads, "problems": problems,
        "short_of": lambda at: short_clock(at, lang),
        "state": json.dumps(result.steps, ensure_ascii=False), "start": result.start.astimezone(WIB).isoformat(),
        "clock": clock_text(shot.at, lang), "clock_of": lambda at: clock_text(at, lang),
        "labels": result.labels, "message": message, "files": files, "runs": runs,
        "fee_choices": [k for k in computed if isinstance(shot.data.get(k), int | float)
                        and not isinstance(shot.data.get(k), bool)],
        "save": save or {}, "preview": _preview(result, lang), "units": UNITS, "show": checks.show,
        "until_of": lambda at: _local(at).isoformat(),
        "start_local": result.start.astimezone(WIB).strftime("%Y-%m-%dT%H:%M")}, status=status)


def _preview(result: scenarios.Trial, lang: str) -> str:
    if not result.steps:
        return ""
    return record.scenario_text(result.steps, result.playback.snapshots, start=result.start,
                                name_id=pick(lang, "Skenario baru", "New scenario"),
                                name_en="New scenario")


def _draft(session: Session, actor: Actor, draft_id: int) -> PackageDraft:
    return drafts.get(session, actor, draft_id)


@routes.get("/studio/draf/{draft_id}/uji-coba")
def trial_page(request: Request, session: SessionDep, rt: RuntimeDep, actor: ModelerPageActor, draft_id: DraftId,
               skenario: Annotated[str | None, Query(max_length=255)] = None) -> Response:
    """Show a trial run of the draft (empty, or replaying one of its scenario files) and its scenario tests."""
    try:
        row = _draft(session, actor, draft_id)
        steps, start = [], DEFAULT_START
        if skenario:
            loaded = scenarios.parse(skenario, drafts.read_file(session, row, skenario))
            steps, start = record.action_steps(loaded), loaded.start
    except scenarios.ScenarioInvalid as exc:  # a malformed file: say why, and start an empty trial
        result = _trial(session, rt, row, [], DEFAULT_START)
        return _render(request, session, row, result, status=422,
                       error="; ".join(p.text(language(request)) for p in exc.problems))
    except DomainError as exc:
        return missing_draft(request, exc)
    result = _trial(session, rt, row, steps, start)
    return _render(request, session, row, result,
                   message=request.query_params.get("pesan", "")[:200])


@routes.post("/studio/draf/{draft_id}/uji-coba")
def trial_step(request: Request, session: SessionDep, rt: RuntimeDep, actor: ModelerPageActor, form: CsrfForm,
               draft_id: DraftId) -> Response:
    """Take one step of the trial (apply, complete a task, move the clock, undo) and replay it on a fresh copy."""
    lang = language(request)
    try:
        row = _draft(session, actor, draft_id)
    except DomainError as exc:
        return missing_draft(request, exc)
    action, chosen = _text(form, "aksi", 20), _text(form, "tugas", 255)
    try:
        steps, start = _steps_of(form), _start_of(form)
        before = _trial(session, rt, row, steps, start)
        new = _new_step(form, action, before, chosen)
    except DomainError as exc:
        result = _trial(session, rt, row, [], DEFAULT_START)
        return _render(request, session, row, result, error=exc.text(lang), status=422)
    if new is None:  # undo, restart, choose another task: no new step
        steps = [] if action == "ulang" else steps[:-1] if action == "batal" else before.steps
        result = before if action == "pilih" else _trial(session, rt, row, steps, start)
        return _render(request, session, row, result, chosen=chosen)
    result = _trial(session, rt, row, [*before.steps, new], start)
    if len(result.steps) <= len(before.steps):  # the new step failed: show why, keep what was typed
        return _render(request, session, row, result, chosen=chosen, values=new.get("data"),
                       status=422)
    return _render(request, session, row, result)


def _new_step(form: FormData, action: str, before: scenarios.Trial, chosen: str) -> dict[str, Any] | None:
    if action == "ajukan":
        schema, ui = before.start_form or (None, None)
        channel = _text(form, "kanal", 20) or next(iter(sorted(before.channels, key=lambda c: c != "daring")), "daring")
        return {"apply": channel, "data": _data_of(form, schema, ui)}
    if action == "kerjakan":
        task = _chosen(before.snapshot, chosen)
        if task is None or task.element_id != chosen:
            raise TrialInput("that task is not open any more", message_id="tugas itu sudah tidak terbuka")
        schema, ui = before.task_forms.get(task.element_id, (None, None))
        return {"act": task.role, "task": task.element_id, "data": _data_of(form, schema, ui)}
    if action == "majukan":
        return _advance_of(form)
    if action in ("batal", "ulang", "pilih"):
        return None
    raise TrialInput(f"unknown action '{action}'", message_id=f"tindakan '{action}' tidak dikenal")


@routes.post("/studio/draf/{draft_id}/uji-coba/simpan")
def trial_save(request: Request, session: SessionDep, rt: RuntimeDep, actor: ModelerPageActor, form: CsrfForm,
               draft_id: DraftId) -> Response:
    """Save the trial as a scenario test file tests/<name>.toml of the draft, with the final state as expectations."""
    lang = language(request)
    try:
        row = _draft(session, actor, draft_id)
    except DomainError as exc:
        return missing_draft(request, exc)
    save = {k: _text(form, k, 200) for k in ("berkas", "nama_id", "nama_en", "kolom_biaya", "tiap_langkah", "timpa")}
    try:
        steps, start = _steps_of(form), _start_of(form)
        result = _trial(session, rt, row, steps, start)
        name = _file_name(save["berkas"])
        if not result.steps or result.playback.problems:
            raise TrialInput("take at least one step that works before saving",
                             message_id="lakukan sekurang-kurangnya satu langkah yang berhasil sebelum menyimpan")
        text = record.scenario_text(
            result.steps, result.playback.snapshots, start=result.start,
            name_id=save["nama_id"] or name, name_en=save["nama_en"] or save["nama_id"] or name,
            fee_field=save["kolom_biaya"] or None, every_step=save["tiap_langkah"] == "1",
            note=f"Recorded by {actor.username}.")
        exists = name in drafts.file_revisions(session, row)
        if exists and save["timpa"] != "1":
            raise TrialInput(f"{name} exists already: tick 'overwrite' to replace it",
                             message_id=f"{name} sudah ada: centang 'timpa' untuk menggantinya")
        revision = _revision(form) if exists else None
        with session.begin_nested():
            drafts.save_file(session, actor, row, name=name, content=text.encode("utf-8"), loaded_revision=revision)
    except DomainError as exc:
        try:
            result = _trial(session, rt, row, _steps_of(form), _start_of(form))
        except DomainError:
            result = _trial(session, rt, row, [], DEFAULT_START)
        return _render(request, session, row, result, error=exc.text(lang), save=save,
                       status=409 if isinstance(exc, DraftConflict) else 422)
    done = pick(lang, f"Tersimpan sebagai {name}.", f"Saved as {name}.")
    return RedirectResponse(f"/studio/draf/{row.id}/uji-coba?skenario={name}&pesan={done}", status_code=303)


def _file_name(stem: str) -> str:
    stem = stem.removeprefix("tests/").removesuffix(".toml")
    if not FILE_STEM.match(stem):
        raise TrialInput("the file name takes lower-case letters, digits, '-' and '_' (at most 60)",
                         message_id="nama berkas terdiri atas huruf kecil, angka, '-' dan '_' (paling banyak 60)")
    return f"tests/{stem}.toml"


def _revision(form: FormData) -> int:
    raw = _text(form, "revisi", 12)
    return int(raw) if raw.isdigit() else 0


@routes.post("/studio/draf/{draft_id}/uji-coba/jalankan")
def trial_run_all(request: Request, session: SessionDep, rt: RuntimeDep, actor: ModelerPageActor, form: CsrfForm,
                  draft_id: DraftId) -> Response:
    """Run every scenario test of the draft, each on its own throw-away copy, and show pass or fail."""
    lang = language(request)
    try:
        row = _draft(session, actor, draft_id)
    except DomainError as exc:
        return missing_draft(request, exc)
    try:
        runs = scenarios.run(drafts.package_of(session, row), known_roles=registry.known_roles(session),
                             settings=rt.settings)
        result = _trial(session, rt, row, _steps_of(form), _start_of(form))
    except (DomainError, PackageInvalid) as exc:
        result = _trial(session, rt, row, [], DEFAULT_START)
        return _render(request, session, row, result, error=exc.text(lang), status=422)
    passed = sum(r.passed for r in runs)
    summary = pick(lang, f"{len(runs)} skenario: {passed} lulus, {len(runs) - passed} gagal.",
                   f"{len(runs)} scenario(s): {passed} passed, {len(runs) - passed} failed.")
    return _render(request, session, row, result, runs=runs, message=summary if runs else
                   pick(lang, "Draf ini belum memiliki skenario uji.", "This draft has no scenario tests yet."))
