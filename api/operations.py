"""Operations: liveness, readiness, and the problem types the API's errors refer to."""

from __future__ import annotations

from sqlalchemy import text

from api import errors
from api.deps import SessionDep
from api.routing import router
from api.schemas import Model

routes = router(tags=["operations"])


class HealthRead(Model):
    status: str


class ProblemTypeRead(Model):
    type: str
    status: int
    title: str
    title_id: str


@routes.get("/healthz", response_model=HealthRead)
def healthz() -> HealthRead:
    """Report that the process is alive."""
    return HealthRead(status="ok")


@routes.get("/readyz", response_model=HealthRead)
def readyz(session: SessionDep) -> HealthRead:
    """Report that the database answers."""
    session.execute(text("SELECT 1"))
    return HealthRead(status="ready")


@routes.get("/api/problems/{slug}", response_model=ProblemTypeRead)
def problem_type(slug: str) -> ProblemTypeRead:
    """Describe one problem type of the API (the `type` URIs of error responses)."""
    for kind in errors.ALL_TYPES:
        if kind.slug == slug:
            return ProblemTypeRead(type=kind.uri, status=kind.status, title=kind.title_en, title_id=kind.title_id)
    raise errors.ApiError(errors.NOT_FOUND, f"no problem type '{slug}'")
