"""The administrators' working-calendar page: holidays per year, weekly service hours, Ramadan hours, imports.

The SLA clock counts on this calendar (engine/sla/calendar.py); every change takes effect for due
dates computed after it (running cases keep theirs). See docs/operations.md, "Working calendar".
"""

from __future__ import annotations

from datetime import date
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from engine.errors import DomainError
from engine.sla import calendar_store as store
from engine.sla.holiday_import import MAX_FILE_BYTES, HolidayFileInvalid, LineError, read_holiday_file
from engine.sla.hours import RAMADAN_WEEK, WEEKDAYS, HoursInvalid, Week, day_fields, make_day
from web.deps import AdminPageActor, CsrfForm, RuntimeDep, SessionDep
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(FilePath(__file__).resolve().parent / "templates")
PAGE = "/admin/kalender"
YearQuery = Annotated[int | None, Query(ge=store.MIN_YEAR, le=store.MAX_YEAR)]
DoneQuery = Annotated[str | None, Query(pattern=r"^[a-z_]{1,20}$")]
KINDS = {"national": ("Libur nasional", "National holiday"), "cuti_bersama": ("Cuti bersama", "Collective leave")}
DONE = {"libur": ("Hari libur disimpan.", "The holiday was saved."),
        "libur_hapus": ("Hari libur dihapus.", "The holiday was removed."),
        "jam": ("Jam layanan disimpan.", "The service hours were saved."),
        "ramadan": ("Rentang jam Ramadan ditambahkan.", "The Ramadan hours range was added."),
        "ramadan_hapus": ("Rentang jam khusus dihapus.", "The special-hours range was removed."),
        "impor": ("Daftar hari libur diimpor; tahun yang ada di berkas diganti seluruhnya.",
                  "The holiday list was imported; every year in the file was replaced as a whole.")}


def _text(form: FormData, name: str, limit: int = 255) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _page(request: Request, session: SessionDep, *, year: int | None = None, done: str | None = None,
          error: str = "", errors: list[LineError] | None = None, typed: dict[str, str] | None = None,
          status: int = 200) -> Response:
    lang = language(request)
    view = store.view(session)
    years = [y.year for y in view.years]
    chosen = year if year is not None else (date.today().year if date.today().year in years else
                                            (years[-1] if years else date.today().year))
    shown = next((y for y in view.years if y.year == chosen), None)
    return pages.render(request, "calendar/index.html", {
        "view": view, "years": years, "year": chosen, "shown": shown, "kinds": KINDS, "weekdays": WEEKDAYS,
        "week_fields": [day_fields(day) for day in view.week], "ramadan_fields": [day_fields(d) for d in RAMADAN_WEEK],
        "flash": pick(lang, *DONE[done]) if done in DONE else "", "error": error,
        "line_errors": [(e.line, pick(lang, e.message_id, e.message_en)) for e in errors or []],
        "typed": typed or {}, "max_kib": MAX_FILE_BYTES // 1024}, status=status)


def _done(code: str, year: int | None = None) -> RedirectResponse:
    suffix = f"&tahun={year}" if year is not None else ""
    return RedirectResponse(f"{PAGE}?selesai={code}{suffix}", status_code=303)


def _refused(request: Request, session: SessionDep, exc: DomainError, *, year: int | None = None,
             typed: dict[str, str] | None = None) -> Response:
    return _page(request, session, year=year, error=exc.text(language(request)), typed=typed, status=422)


@routes.get(PAGE)
def calendar_page(request: Request, session: SessionDep, actor: AdminPageActor, tahun: YearQuery = None,
                  selesai: DoneQuery = None) -> Response:
    """Show the working calendar: holidays of a year, weekly service hours, Ramadan ranges and the import form."""
    return _page(request, session, year=tahun, done=selesai)


def _date(text: str, what: tuple[str, str]) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HoursInvalid(f"{what[1]}: '{text}' is not a date (YYYY-MM-DD)",
                           f"{what[0]}: tanggal '{text}' tidak sah (TTTT-BB-HH)") from None


@routes.post(f"{PAGE}/libur")
def holiday_add(request: Request, session: SessionDep, rt: RuntimeDep, actor: AdminPageActor,
                form: CsrfForm) -> Response:
    """Add a holiday or cuti bersama day (or rename one)."""
    typed = {"tanggal": _text(form, "tanggal", 10), "nama": _text(form, "nama"), "jenis": _text(form, "jenis", 16)}
    try:
        day = _date(typed["tanggal"], ("Tanggal", "Date"))
    except HoursInvalid as exc:
        return _page(request, session, error=exc.text(language(request)), typed=typed, status=422)
    try:
        store.add_holiday(session, day=day, name=typed["nama"], kind=typed["jenis"], actor=actor.username,
                          cache=rt.calendars)
    except DomainError as exc:
        return _refused(request, session, exc, year=day.year, typed=typed)
    return _done("libur", day.year)


@routes.post(f"{PAGE}/libur/{{day}}/hapus")
def holiday_remove(request: Request, session: SessionDep, rt: RuntimeDep, actor: AdminPageActor, form: CsrfForm,
                   day: Annotated[date, Path()]) -> Response:
    """Remove a holiday: the day becomes a working day again."""
    try:
        store.remove_holiday(session, day=day, actor=actor.username, cache=rt.calendars)
    except DomainError as exc:
        return _refused(request, session, exc, year=day.year)
    return _done("libur_hapus", day.year)


def _week(form: FormData, prefix: str) -> Week:
    days = []
    for index, (name_id, name_en) in enumerate(WEEKDAYS):
        fields = [_text(form, f"{prefix}{index}_{part}", 5) for part in ("buka", "tutup", "rehat_mulai", "rehat_akhir")]
        try:
            days.append(make_day(*fields))
        except HoursInvalid as exc:
            raise HoursInvalid(f"{name_en}: {exc}", f"{name_id}: {exc.message_id}") from None
    return (days[0], days[1], days[2], days[3], days[4], days[5], days[6])


@routes.post(f"{PAGE}/jam")
def hours_set(request: Request, session: SessionDep, rt: RuntimeDep, actor: AdminPageActor,
              form: CsrfForm) -> Response:
    """Replace the weekly service hours (opening, closing and an optional break per weekday)."""
    try:
        week = _week(form, "h")
    except HoursInvalid as exc:
        return _page(request, session, error=_hours_error(request, exc), status=422)
    if not any(week):
        return _page(request, session, error=pick(language(request), "Paling sedikit satu hari harus buka.",
                                                   "At least one day must be open."), status=422)
    store.set_week(session, week=week, actor=actor.username, cache=rt.calendars)
    return _done("jam")


def _hours_error(request: Request, exc: HoursInvalid) -> str:
    lang = language(request)
    return pick(lang, "Tidak disimpan — ", "Not saved — ") + exc.text(lang)


@routes.post(f"{PAGE}/ramadan")
def range_add(request: Request, session: SessionDep, rt: RuntimeDep, actor: AdminPageActor,
              form: CsrfForm) -> Response:
    """Add a date range with its own service hours (Ramadan)."""
    typed = {"r_nama": _text(form, "r_nama", 120), "r_mulai": _text(form, "r_mulai", 10),
             "r_akhir": _text(form, "r_akhir", 10)}
    try:
        starts = _date(typed["r_mulai"], ("Mulai", "Starts"))
        ends = _date(typed["r_akhir"], ("Berakhir", "Ends"))
        week = _week(form, "r")
    except HoursInvalid as exc:
        return _page(request, session, error=_hours_error(request, exc), typed=typed, status=422)
    try:
        store.add_range(session, name=typed["r_nama"], starts=starts, ends=ends, week=week, actor=actor.username,
                        cache=rt.calendars)
    except DomainError as exc:
        return _refused(request, session, exc, typed=typed)
    return _done("ramadan")


@routes.post(f"{PAGE}/ramadan/{{range_id}}/hapus")
def range_remove(request: Request, session: SessionDep, rt: RuntimeDep, actor: AdminPageActor, form: CsrfForm,
                 range_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Response:
    """Remove a special-hours range."""
    try:
        store.remove_range(session, range_id=range_id, actor=actor.username, cache=rt.calendars)
    except DomainError as exc:
        return _refused(request, session, exc)
    return _done("ramadan_hapus")


@routes.post(f"{PAGE}/impor")
def holidays_import(request: Request, session: SessionDep, rt: RuntimeDep, actor: AdminPageActor,
                    form: CsrfForm) -> Response:
    """Import an official holiday list (.toml or .csv): each year in the file replaces that year's days."""
    lang = language(request)
    upload = form.get("berkas")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, session, error=pick(lang, "Pilih berkas daftar hari libur (.toml atau .csv).",
                                                   "Choose a holiday list file (.toml or .csv)."), status=422)
    raw = upload.file.read(MAX_FILE_BYTES + 1)
    try:
        holidays = read_holiday_file(raw, filename=upload.filename)
        years = store.import_holidays(session, holidays=holidays, actor=actor.username,
                                      provisional=bool(form.get("sementara")), cache=rt.calendars)
    except HolidayFileInvalid as exc:
        message = pick(lang, f"Berkas {upload.filename} tidak diimpor: {len(exc.errors)} baris salah.",
                       f"{upload.filename} was not imported: {len(exc.errors)} bad line(s).")
        return _page(request, session, error=message, errors=exc.errors, status=422)
    except DomainError as exc:
        return _refused(request, session, exc)
    return _done("impor", years[0])
