"""Notifications (admin only): partner webhook subscriptions, and every e-mail and webhook delivery."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

from api.deps import AdminActor, ContextDep, SessionDep
from api.routing import router
from api.schemas import (
    AttemptRead,
    DeliveryPage,
    DeliveryRead,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
    WebhookWithSecret,
)
from engine.models import Notification, NotificationAttempt, WebhookSubscription
from engine.notify import webhooks as webhooks
from forms.personal import mask

routes = router(tags=["notifications"])
SubscriptionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def _with_secret(row: WebhookSubscription, secret: str) -> WebhookWithSecret:
    return WebhookWithSecret.model_validate({**WebhookRead.model_validate(row).model_dump(), "secret": secret})


def _page(found: tuple[list[tuple[Notification, list[NotificationAttempt]]], int], limit: int,
          offset: int) -> DeliveryPage:
    rows, total = found
    # A list shows a person's e-mail address masked (b***@example.id): enough to check the domain.
    items = [DeliveryRead.model_validate({
        **{k: getattr(note, k) for k in DeliveryRead.model_fields if k != "attempt_log"},
        "recipient": mask(note.recipient) if note.channel == "email" else note.recipient,
        "attempt_log": [AttemptRead.model_validate(a) for a in attempts]}) for note, attempts in rows]
    return DeliveryPage(items=items, total=total, limit=limit, offset=offset)


@routes.get("/api/notifications/webhooks", response_model=list[WebhookRead])
def list_webhooks(actor: AdminActor, session: SessionDep,
                  agency: Annotated[str | None, Query(max_length=64)] = None) -> list[WebhookRead]:
    """List webhook subscriptions, of one agency when given (secrets are never shown again)."""
    return [WebhookRead.model_validate(r) for r in webhooks.list_subscriptions(session, agency_code=agency)]


@routes.post("/api/notifications/webhooks", response_model=WebhookWithSecret, status_code=201)
def create_webhook(body: WebhookCreate, actor: AdminActor, session: SessionDep, ctx: ContextDep) -> WebhookWithSecret:
    """Subscribe a partner system to an agency's case events; the response holds its signing secret, once."""
    row, secret = webhooks.create_subscription(
        session, agency_code=body.agency_code, url=body.url, events=list(body.events), active=body.active,
        actor=actor.username, key=ctx.settings.secret_key.get_secret_value())
    return _with_secret(row, secret)


@routes.get("/api/notifications/webhooks/{subscription_id}", response_model=WebhookRead)
def read_webhook(subscription_id: SubscriptionId, actor: AdminActor, session: SessionDep) -> WebhookRead:
    """Return one webhook subscription."""
    return WebhookRead.model_validate(webhooks.get_subscription(session, subscription_id))


@routes.patch("/api/notifications/webhooks/{subscription_id}", response_model=WebhookRead)
def update_webhook(subscription_id: SubscriptionId, body: WebhookUpdate, actor: AdminActor,
                   session: SessionDep) -> WebhookRead:
    """Change a subscription's address, events or active flag."""
    row = webhooks.update_subscription(session, subscription_id=subscription_id, actor=actor.username, url=body.url,
                                       events=list(body.events) if body.events is not None else None,
                                       active=body.active)
    return WebhookRead.model_validate(row)


@routes.delete("/api/notifications/webhooks/{subscription_id}", status_code=204)
def delete_webhook(subscription_id: SubscriptionId, actor: AdminActor, session: SessionDep) -> None:
    """Remove a subscription and its delivery records."""
    webhooks.delete_subscription(session, subscription_id=subscription_id, actor=actor.username)


@routes.post("/api/notifications/webhooks/{subscription_id}/secret", response_model=WebhookWithSecret)
def rotate_webhook_secret(subscription_id: SubscriptionId, actor: AdminActor, session: SessionDep,
                          ctx: ContextDep) -> WebhookWithSecret:
    """Replace a subscription's signing secret; the response holds the new one, once."""
    row, secret = webhooks.rotate_secret(session, subscription_id=subscription_id, actor=actor.username,
                                         key=ctx.settings.secret_key.get_secret_value())
    return _with_secret(row, secret)


@routes.get("/api/notifications/webhooks/{subscription_id}/deliveries", response_model=DeliveryPage)
def list_webhook_deliveries(subscription_id: SubscriptionId, actor: AdminActor, session: SessionDep,
                            limit: Limit = 50, offset: Offset = 0) -> DeliveryPage:
    """List a subscription's deliveries, newest first, each with its attempts."""
    found = webhooks.deliveries(session, subscription_id=subscription_id, limit=limit, offset=offset)
    return _page(found, limit, offset)


@routes.get("/api/notifications", response_model=DeliveryPage)
def list_notifications(actor: AdminActor, session: SessionDep, limit: Limit = 50, offset: Offset = 0,
                       channel: Literal["email", "webhook"] | None = None,
                       status: Literal["pending", "sent", "skipped", "failed"] | None = None,
                       case_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> DeliveryPage:
    """List e-mail and webhook deliveries, newest first, with their attempts; filter by channel, status, case."""
    found = webhooks.notifications(session, channel=channel, status=status, case_id=case_id, limit=limit,
                                   offset=offset)
    return _page(found, limit, offset)
