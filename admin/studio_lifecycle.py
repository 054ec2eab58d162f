"""Lifecycle of a service in the studio: retire, restore, download a version as a zip."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import RedirectResponse, Response

from engine.catalogue import lifecycle as lifecycle
from web.deps import CsrfForm, ModelerPageActor, SessionDep
from web.downloads import content_disposition
from web.routing import TransactionalRoute

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
KeyArg = Annotated[str, Path(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,119}$")]
VersionArg = Annotated[int, Path(ge=1, le=1_000_000)]


def _reason(form: CsrfForm) -> str:
    value = form.get("alasan")
    return value[:lifecycle.MAX_REASON] if isinstance(value, str) else ""


def _back(key: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/studio?{done}={key}#proses-{key}", status_code=303)


@routes.post("/studio/{key}/pensiunkan")
def studio_retire(session: SessionDep, actor: ModelerPageActor, form: CsrfForm, key: KeyArg) -> Response:
    """Retire a service: it leaves the catalogue and takes no new applications; running cases finish."""
    lifecycle.retire(session, key=key, actor=actor, reason=_reason(form))
    return _back(key, "dipensiunkan")


@routes.post("/studio/{key}/aktifkan")
def studio_restore(session: SessionDep, actor: ModelerPageActor, form: CsrfForm, key: KeyArg) -> Response:
    """Restore a retired service: it is listed and takes applications again."""
    lifecycle.restore(session, key=key, actor=actor, reason=_reason(form))
    return _back(key, "diaktifkan")


@routes.get("/studio/{key}/versi/{version}/unduh.zip")
def studio_version_zip(session: SessionDep, actor: ModelerPageActor, key: KeyArg, version: VersionArg) -> Response:
    """Download a version as a package zip, in the format `mpp deploy` and the upload take."""
    return Response(lifecycle.version_zip(session, key=key, version=version), media_type="application/zip",
                    headers={"Content-Disposition": content_disposition(f"{key}-v{version}.zip"),
                             "Cache-Control": "no-store"})
