"""The counter desk (officers of the counter's agency) and the hall set-up page (administrators).

At /loket an officer picks one of their agency's counters and calls, recalls, serves, finishes,
marks no-show or transfers tickets (engine/queue/service.py keeps two counters from calling the
same ticket). /admin/antrean sets each agency's ticket prefix and visit slots, and its counters.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from engine.cases import access as access
from engine.directory.actors import Actor
from engine.errors import AlreadyExists, CaseConflict
from engine.models import QueueCounter
from engine.queue import service as queue
from engine.queue import setup as setup
from engine.queue import views as views
from engine.queue.errors import QueueInputInvalid
from engine.runtime import Runtime
from web.deps import AdminPageActor, CsrfForm, PageActor, RowId, RuntimeDep, SessionDep
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(FilePath(__file__).resolve().parent / "templates")
DESK, SETUP = "/loket", "/admin/antrean"
DoneQuery = Annotated[str, Query(max_length=20)]
Action = Annotated[str, Path(pattern=r"^(panggil|panggil-ulang|layani|selesai|tidak-hadir|alihkan)$")]
DONE = {"panggil": ("Nomor dipanggil.", "The number was called."),
        "kosong": ("Tidak ada yang menunggu untuk loket ini.", "Nobody is waiting for this counter."),
        "panggil-ulang": ("Nomor dipanggil ulang.", "The number was called again."),
        "layani": ("Pengunjung sedang dilayani.", "The visitor is being served."),
        "selesai": ("Tiket selesai dilayani.", "The ticket was closed as served."),
        "tidak-hadir": ("Tiket ditandai tidak hadir.", "The ticket was marked as no-show."),
        "alihkan": ("Tiket dialihkan ke antrean instansi lain.", "The ticket was sent to another agency's queue."),
        "loket": ("Loket ditambahkan.", "The counter was added."),
        "status": ("Status loket diubah.", "The counter's status was changed."),
        "instansi": ("Pengaturan antrean instansi disimpan.", "The agency's queue settings were saved.")}


def _text(form: FormData, name: str, limit: int = 120) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _flash(request: Request, done: str) -> str:
    return pick(language(request), *DONE[done]) if done in DONE else ""


@routes.get(DESK)
def desks(request: Request, session: SessionDep, actor: PageActor) -> Response:
    """List the counters the officer may work at."""
    return pages.render(request, "queue/desks.html", {"counters": queue.counters_for(session, actor)})


def _desk(request: Request, session: Session, rt: Runtime, actor: Actor, counter: QueueCounter, *,
          done: str = "", error: str = "", status: int = 200) -> Response:
    seen = views.desk(session, counter=counter, now=rt.clock())
    others = [a for a in setup.hall(session) if a.code != counter.agency]
    services = {s.key: (s.name_id, s.name_en) for s in setup.services_of(session, counter.agency)}
    return pages.render(request, "queue/desk.html", {
        "desk": seen, "others": others, "services": services, "flash": _flash(request, done), "error": error,
        "files_for_others": access.may_file_for_others(actor)}, status=status)


@routes.get(DESK + "/{counter_id}")
def desk(request: Request, counter_id: RowId, session: SessionDep, rt: RuntimeDep, actor: PageActor,
         selesai: DoneQuery = "") -> Response:
    """Show a counter: the ticket at it, its actions and the tickets it would call next."""
    return _desk(request, session, rt, actor, queue.counter_for(session, actor, counter_id), done=selesai)


def _run(session: Session, rt: Runtime, actor: Actor, counter: QueueCounter, action: str, form: FormData) -> str:
    """Do one desk action; return the flash code."""
    now = rt.clock()
    if action == "panggil":
        return "panggil" if queue.call_next(session, counter=counter, actor=actor, now=now) else "kosong"
    if action == "panggil-ulang":
        queue.recall(session, counter=counter, now=now)
    elif action == "layani":
        queue.serve(session, counter=counter, now=now)
    elif action == "selesai":
        number = _text(form, "nomor_permohonan", 64)
        case_id = queue.case_for_ticket(session, actor=actor, tracking_number=number) if number else None
        queue.finish(session, counter=counter, now=now, case_id=case_id)
    elif action == "tidak-hadir":
        queue.no_show(session, counter=counter, now=now)
    else:
        queue.transfer(session, counter=counter, agency=_text(form, "instansi", 64),
                       service_key=_text(form, "layanan") or None, now=now)
    return action


@routes.post(DESK + "/{counter_id}/{action}")
def act(request: Request, counter_id: RowId, action: Action, session: SessionDep, rt: RuntimeDep,
        actor: PageActor, form: CsrfForm) -> Response:
    """Call next, recall, serve, finish, mark no-show or transfer the counter's ticket."""
    counter = queue.counter_for(session, actor, counter_id)
    try:
        with session.begin_nested():
            done = _run(session, rt, actor, counter, action, form)
    except (CaseConflict, QueueInputInvalid) as exc:
        session.refresh(counter)
        return _desk(request, session, rt, actor, counter, error=exc.text(language(request)),
                     status=409 if isinstance(exc, CaseConflict) else 422)
    return RedirectResponse(f"{DESK}/{counter_id}?selesai={done}", status_code=303)


def _setup(request: Request, session: Session, *, done: str = "", error: str = "", status: int = 200) -> Response:
    names = setup.agency_names(session)
    offered = setup.published(session)
    agencies = sorted({a for a in offered if a} | {c.agency for c in setup.counters(session)})
    return pages.render(request, "queue/setup.html", {
        "counters": setup.counters(session), "booths": [setup.booth(session, a) for a in agencies], "names": names,
        "services": {a: offered.get(a, []) for a in agencies}, "flash": _flash(request, done),
        "error": error}, status=status)


@routes.get(SETUP)
def setup_page(request: Request, session: SessionDep, actor: AdminPageActor, selesai: DoneQuery = "") -> Response:
    """Show the hall set-up: each agency's prefix and visit slots, and the counters."""
    return _setup(request, session, done=selesai)


def _number(form: FormData, name: str) -> int:
    text = _text(form, name, 6)
    if not text.isdigit():
        raise QueueInputInvalid(f"'{name}' harus berupa bilangan bulat.", f"'{name}' must be a whole number.")
    return int(text)


@routes.post(SETUP + "/loket")
def add_counter(request: Request, session: SessionDep, actor: AdminPageActor, form: CsrfForm) -> Response:
    """Add a counter to an agency's booth."""
    try:
        with session.begin_nested():
            setup.add_counter(session, code=_text(form, "kode", 16), name=_text(form, "nama"),
                              agency=_text(form, "instansi", 64),
                              services=[v for v in form.getlist("layanan") if isinstance(v, str) and v])
    except (QueueInputInvalid, AlreadyExists) as exc:
        return _setup(request, session, error=exc.text(language(request)), status=422)
    return RedirectResponse(f"{SETUP}?selesai=loket", status_code=303)


@routes.post(SETUP + "/loket/{counter_id}/status")
def counter_status(request: Request, counter_id: RowId, session: SessionDep, actor: AdminPageActor,
                   form: CsrfForm) -> Response:
    """Open or close a counter."""
    setup.set_active(session, counter_id=counter_id, active=_text(form, "aktif", 3) == "ya")
    return RedirectResponse(f"{SETUP}?selesai=status", status_code=303)


@routes.post(SETUP + "/instansi/{agency}")
def save_booth(request: Request, agency: Annotated[str, Path(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")],
               session: SessionDep, actor: AdminPageActor, form: CsrfForm) -> Response:
    """Save an agency's ticket prefix and visit slots (length, places at the counters and the drive-thru)."""
    try:
        with session.begin_nested():
            setup.save_booth(session, agency=agency, prefix=_text(form, "awalan", 4),
                             slot_minutes=_number(form, "menit_slot"), capacity=_number(form, "kapasitas"),
                             drive_thru_capacity=_number(form, "kapasitas_drive_thru"))
    except QueueInputInvalid as exc:
        return _setup(request, session, error=exc.text(language(request)), status=422)
    return RedirectResponse(f"{SETUP}?selesai=instansi", status_code=303)
