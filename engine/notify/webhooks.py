"""Webhook subscriptions of partner systems: manage them, seal their secrets, sign what is sent.

A subscription belongs to one agency and receives the events of the cases that agency takes
part in (it publishes the service or one of its roles has a lane in it). Each delivery is a JSON
POST signed with the subscription's shared secret (docs/operations.md shows how to verify):

    X-MPP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

The secret must stay readable to sign, so it is sealed (Fernet, key derived from
MPP_SECRET_KEY with HKDF) rather than hashed, and shown once: at creation and at rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import crypto as crypto
from engine.crypto import SecretUnreadable as SecretUnreadable  # re-exported: delivery catches it here
from engine.directory import audit as audit
from engine.errors import InvalidInput, NotFound
from engine.models import Agency, Notification, NotificationAttempt, WebhookSubscription
from engine.notify.service import EVENTS

SIGNATURE_HEADER = "X-MPP-Signature"
MAX_URL = 2000


class SubscriptionNotFound(NotFound):
    """No webhook subscription has this id."""


WEBHOOK_PURPOSE = "mpp webhook secrets"


def seal(secret: str, *, key: str) -> str:
    """Encrypt a webhook secret for storage."""
    return crypto.seal(secret, key=key, purpose=WEBHOOK_PURPOSE)


def unseal(sealed: str, *, key: str) -> str:
    """Decrypt a stored webhook secret."""
    return crypto.unseal(sealed, key=key, purpose=WEBHOOK_PURPOSE, what="webhook secret (rotate it)")


def sign(secret: str, *, timestamp: int, body: bytes) -> str:
    """Return the signature header value of a body sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, *, header: str, body: bytes, now: int, tolerance_s: int = 300) -> bool:
    """Tell whether a signature header is valid for this body and recent enough (what a partner does)."""
    parts = dict(item.strip().split("=", 1) for item in header.split(",") if "=" in item)
    stamp = parts.get("t", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > tolerance_s:
        return False
    expected = sign(secret, timestamp=int(stamp), body=body)
    return hmac.compare_digest(expected, f"t={stamp},v1={parts.get('v1', '')}")


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(f"url must be an http(s) address of at most {MAX_URL} characters, e.g. https://partner.example/mpp")
    if parts.username or parts.password:
        raise InvalidInput("url must not carry a user name or password; the signature authenticates the platform")
    return url


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise InvalidInput(f"events must list one or more of {', '.join(EVENTS)}"
                           + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return [e for e in EVENTS if e in events]


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_subscription(session: Session, *, agency_code: str, url: str, events: list[str], active: bool,
                        actor: str, key: str) -> tuple[WebhookSubscription, str]:
    """Subscribe an agency's partner system to events; return the subscription and its new secret."""
    if session.scalar(select(Agency.id).where(Agency.code == agency_code)) is None:
        raise InvalidInput(f"no agency '{agency_code}'")
    secret = _new_secret()
    row = WebhookSubscription(agency_code=agency_code, url=_check_url(url), events=_check_events(events),
                              active=active, secret_sealed=seal(secret, key=key), secret_hint=secret[-4:],
                              created_by=actor)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="webhook.created", subject=str(row.id),
                 detail={"agency": agency_code, "url": row.url, "events": row.events})
    return row, secret


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    """Return a subscription or raise SubscriptionNotFound."""
    row = session.get(WebhookSubscription, subscription_id)
    if row is None:
        raise SubscriptionNotFound(f"no webhook subscription {subscription_id}")
    return row


def list_subscriptions(session: Session, *, agency_code: str | None = None) -> list[WebhookSubscription]:
    """Return the subscriptions, of one agency when given."""
    stmt = select(WebhookSubscription).order_by(WebhookSubscription.id)
    if agency_code:
        stmt = stmt.where(WebhookSubscription.agency_code == agency_code)
    return list(session.scalars(stmt))


def update_subscription(session: Session, *, subscription_id: int, actor: str, url: str | None = None,
                        events: list[str] | None = None, active: bool | None = None) -> WebhookSubscription:
    """Change a subscription's address, events or active flag."""
    row = get_subscription(session, subscription_id)
    changes: dict[str, Any] = {}
    if url is not None:
        row.url = changes["url"] = _check_url(url)
    if events is not None:
        row.events = changes["events"] = _check_events(events)
    if active is not None:
        row.active = changes["active"] = active
    session.flush()
    audit.record(session, actor=actor, action="webhook.updated", subject=str(row.id), detail=changes)
    return row


def rotate_secret(session: Session, *, subscription_id: int, actor: str, key: str) -> tuple[WebhookSubscription, str]:
    """Replace a subscription's secret; return it (shown once)."""
    row = get_subscription(session, subscription_id)
    secret = _new_secret()
    row.secret_sealed, row.secret_hint = seal(secret, key=key), secret[-4:]
    session.flush()
    audit.record(session, actor=actor, action="webhook.secret_rotated", subject=str(row.id))
    return row, secret


def delete_subscription(session: Session, *, subscription_id: int, actor: str) -> None:
    """Remove a subscription with its delivery records (pending deliveries are dropped)."""
    row = get_subscription(session, subscription_id)
    session.delete(row)
    session.flush()
    audit.record(session, actor=actor, action="webhook.deleted", subject=str(subscription_id),
                 detail={"agency": row.agency_code, "url": row.url})


def deliveries(session: Session, *, subscription_id: int, limit: int = 50, offset: int = 0,
               ) -> tuple[list[tuple[Notification, list[NotificationAttempt]]], int]:
    """Return a page of a subscription's deliveries, newest first, each with its attempts, and the total."""
    get_subscription(session, subscription_id)
    return notifications(session, subscription_id=subscription_id, limit=limit, offset=offset)


def notifications(session: Session, *, subscription_id: int | None = None, channel: str | None = None,
                  status: str | None = None, case_id: int | None = None, limit: int = 50, offset: int = 0,
                  ) -> tuple[list[tuple[Notification, list[NotificationAttempt]]], int]:
    """Return a page of notifications matching the filters, newest first, each with its attempts, and the total."""
    stmt = select(Notification)
    for column, value in ((Notification.subscription_id, subscription_id), (Notification.channel, channel),
                          (Notification.status, status), (Notification.case_id, case_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit).offset(offset)))
    attempts: dict[int, list[NotificationAttempt]] = {row.id: [] for row in rows}
    if rows:
        for attempt in session.scalars(select(NotificationAttempt).where(
                NotificationAttempt.notification_id.in_(list(attempts))).order_by(NotificationAttempt.id)):
            attempts[attempt.notification_id].append(attempt)
    return [(row, attempts[row.id]) for row in rows], total
