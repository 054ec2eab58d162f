"""Integrated one-stop applications: several services in one application, one tracking number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.cases import tracking as tracking
from engine.cases.service import StartedCase, start_case, unique_tracking_number
from engine.catalogue import lifecycle as lifecycle
from engine.directory.actors import Actor
from engine.errors import InvalidInput
from engine.models import Bundle
from engine.runtime import Runtime
from forms.validation import FieldError, FormInvalid

MAX_SERVICES = 10


@dataclass(frozen=True)
class StartedBundle:
    """A new integrated application: its tracking number and PIN, and the case of each service."""

    id: int
    tracking_number: str
    pin: str
    cases: list[StartedCase]


def start_bundle(
    session: Session, *, rt: Runtime, services: list[tuple[str, dict[str, Any]]], channel: str, actor: Actor,
    applicant_id: int | None,
) -> StartedBundle:
    """Start one case per service under one tracking number; all start or none does."""
    if not 2 <= len(services) <= MAX_SERVICES:
        raise InvalidInput(f"an integrated application bundles 2 to {MAX_SERVICES} services")
    keys = [key for key, _ in services]
    if len(set(keys)) != len(keys):
        raise InvalidInput("each service may appear once in an integrated application")
    for key in keys:  # a retired service is named before any form is checked
        lifecycle.refuse_retired(session, key)
    number, pin = unique_tracking_number(session), tracking.new_pin()
    pin_hash = tracking.hash_pin(pin, number, rt.settings.secret_key.get_secret_value())
    bundle = Bundle(tracking_number=number, pin_hash=pin_hash, applicant_id=applicant_id, filed_by_id=actor.user_id,
                    channel=channel, created_at=rt.clock())
    session.add(bundle)
    session.flush()
    started = []
    for index, (key, data) in enumerate(services):
        try:
            started.append(start_case(session, rt=rt, process_key=key, data=data, channel=channel, actor=actor,
                                      applicant_id=applicant_id, bundle_id=bundle.id))
        except FormInvalid as exc:  # name the service whose form is at fault
            raise FormInvalid([FieldError(f"services.{index}.data.{e.path}", e.code, e.message_id, e.message_en)
                               for e in exc.field_errors]) from exc
    return StartedBundle(bundle.id, number, pin, started)
