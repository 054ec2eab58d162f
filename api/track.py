"""Public tracking: a case's status by tracking number and PIN, rate-limited, nothing else."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from api.deps import ClientAddress, ContextDep, SessionDep
from api.errors import NOT_FOUND, ApiError
from api.routing import router
from api.schemas import Text, TimelineEntry, TrackPart, TrackRead
from engine.cases.tracking import public_status
from web.ratelimit import count_pin_guess, pin_matched

routes = router(tags=["tracking"])


@routes.get("/api/track/{tracking_number}", response_model=TrackRead)
def track(
    session: SessionDep, ctx: ContextDep, client: ClientAddress,
    tracking_number: Annotated[str, Path(min_length=4, max_length=20)],
    pin: Annotated[str, Query(min_length=1, max_length=12)],
) -> TrackRead:
    """Return a case's public status, stage, who holds it, expected date and timeline.

    A wrong number and a wrong PIN give the same answer. Lookups are limited per client (20 a
    minute) and wrong PINs per tracking number (10 per 15 minutes), answered 429 with Retry-After.
    """
    count_pin_guess(session, client=client, tracking_number=tracking_number)
    found = public_status(session, number=tracking_number, pin=pin, secret=ctx.settings.secret_key.get_secret_value(),
                          rt=ctx.rt)
    if found is None:
        raise ApiError(NOT_FOUND, "no case matches this tracking number and PIN")
    pin_matched(session, tracking_number=tracking_number)
    return TrackRead(tracking_number=found.tracking_number, service=Text(id=found.service_id, en=found.service_en),
                     status=found.status, stage_id=found.stage_id, stage_en=found.stage_en, held_by=found.held_by,
                     expected_completion=found.expected_completion,
                     timeline=[TimelineEntry(at=t.at, event=t.event, label_id=t.label_id, label_en=t.label_en)
                               for t in found.timeline],
                     parts=[TrackPart(service=Text(id=p.service_id, en=p.service_en), status=p.status,
                                      stage_id=p.stage_id, stage_en=p.stage_en, held_by=p.held_by,
                                      expected_completion=p.expected_completion) for p in found.parts])
