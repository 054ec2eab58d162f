"""Deliver queued notifications: render e-mails from templates, send them by SMTP, POST webhooks.

A delivery runs inside the job's transaction, which also records the attempt and marks the job
done, so two workers never both deliver one notification (the claim is exclusive and, on
PostgreSQL, the job row stays locked while it is delivered). A failure is recorded as an
attempt and retried with exponential backoff (30 s, 1, 2, 4, 8 min, ... at most an hour) until
MPP_NOTIFY_MAX_ATTEMPTS, then the notification is marked failed. A crash between sending and
committing resends after the job's lease: e-mails carry a Message-ID and webhooks an event id
so receivers can drop the duplicate.

The texts come from engine/notify/templates.py.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from jinja2 import TemplateError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Job, Notification, NotificationAttempt, WebhookSubscription
from engine.notify import templates as templates
from engine.notify import webhooks as webhooks
from engine.notify.templates import render
from engine.runtime import Runtime
from engine.settings import Settings
from forms.personal import mask
from forms.validation import EMAIL_ADDRESS

log = logging.getLogger("mpp.notify")


class DeliveryFailed(Exception):
    """One attempt failed; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, status_code: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.status_code, self.permanent = status_code, permanent


def backoff(attempt: int) -> timedelta:
    """Return the wait before the next try after `attempt` failed ones: 30 s doubling, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempt - 1, 0), 3600))


def deliver(session: Session, *, rt: Runtime, job: Job) -> bool:
    """Deliver the notification a job carries; False when the job was rescheduled or given up (status set)."""
    note = session.scalar(select(Notification).where(Notification.uid == job.task_id))
    if note is None or note.status != "pending":
        return True  # removed with its subscription, or already final
    now = rt.clock()
    note.attempts = job.attempts
    try:
        if note.channel == "email":
            outcome, code, reason = send_email(session, settings=rt.settings, note=note, now=now,
                                               classified=rt.classified, files=rt.version_files)
        else:
            outcome, code, reason = send_webhook(session, settings=rt.settings, note=note, now=now)
    except DeliveryFailed as exc:
        return _failed(session, rt=rt, job=job, note=note, exc=exc, now=now)
    session.add(NotificationAttempt(notification_id=note.id, at=now, outcome=outcome, status_code=code, error=reason))
    note.status, note.sent_at, note.last_error = outcome, now, reason
    session.flush()
    return True


def _failed(session: Session, *, rt: Runtime, job: Job, note: Notification, exc: DeliveryFailed, now: datetime,
            ) -> bool:
    error = str(exc)[:2000]
    # An e-mail address is personal data: the log names it masked (the notification row keeps it).
    recipient = mask(note.recipient) if note.channel == "email" else note.recipient
    log.warning("notification %s (%s to %s) attempt %s failed: %s", note.uid, note.channel, recipient,
                job.attempts, error)
    session.add(NotificationAttempt(notification_id=note.id, at=now, outcome="failed", status_code=exc.status_code,
                                    error=error))
    note.last_error = job.last_error = error
    if exc.permanent or job.attempts >= rt.settings.notify_max_attempts:
        note.status = job.status = "failed"
    else:
        job.status, job.due_at = "pending", now + backoff(job.attempts)
    job.locked_until = None
    session.flush()
    return False


# ---------------------------------------------------------------- e-mail
def send_email(session: Session, *, settings: Settings, note: Notification, now: datetime,
               classified: templates.Classified, files: templates.VersionFiles) -> tuple[str, int | None, str | None]:
    """Render and send one e-mail; return (outcome, status code, note) or raise DeliveryFailed.

    `files` reads the service's own templates (the runtime's `version_files`: once per version).
    """
    if not EMAIL_ADDRESS.match(note.recipient):
        raise DeliveryFailed(f"'{note.recipient}' is not an e-mail address", permanent=True)
    try:
        subject, body = render(session, note=note, public_url=settings.public_url, classified=classified,
                               files=files)
    except (TemplateError, KeyError, TypeError, ValueError) as exc:  # retrying cannot fix a template
        raise DeliveryFailed(f"cannot render the {note.language} '{note.event}' template: {exc}",
                             permanent=True) from exc
    if not settings.smtp_host:
        return "skipped", None, "MPP_SMTP_HOST is not set"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, note.recipient, subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{note.uid}@mpp.notifications>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    message["Content-Language"] = note.language  # after set_content, which clears Content-* headers
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.notify_timeout_s) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username and settings.smtp_password is not None:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"the SMTP server refused the recipient: {exc}", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {type(exc).__name__}: {exc}") from exc
    return "sent", None, None


# ---------------------------------------------------------------- webhooks
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Treat a redirect as a failed delivery: a signed POST is not replayed to another address."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_body(note: Notification) -> bytes:
    """Return the JSON a partner receives for a notification (the same on every retry)."""
    context = note.context
    case = {k: v for k, v in context["case"].items() if k != "version_id"}
    payload = {"id": note.event_id, "type": note.event, "created_at": context["at"], "delivery_id": note.uid,
               "case": case, "task": context.get("task")}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def send_webhook(session: Session, *, settings: Settings, note: Notification, now: datetime,
                 ) -> tuple[str, int | None, str | None]:
    """POST one signed delivery; return (outcome, status code, note) or raise DeliveryFailed."""
    subscription = session.get(WebhookSubscription, note.subscription_id) if note.subscription_id else None
    if subscription is None:
        raise DeliveryFailed("the subscription no longer exists", permanent=True)
    try:
        secret = webhooks.unseal(subscription.secret_sealed, key=settings.secret_key.get_secret_value())
    except webhooks.SecretUnreadable as exc:
        raise DeliveryFailed(str(exc), permanent=True) from exc
    body = webhook_body(note)
    request = urllib.request.Request(note.recipient, data=body, method="POST", headers={  # noqa: S310 - http(s) only, checked at subscription
        "Content-Type": "application/json", "User-Agent": "MPP-Webhooks/1", "X-MPP-Event": note.event,
        "X-MPP-Event-Id": note.event_id, "X-MPP-Delivery": note.uid,
        webhooks.SIGNATURE_HEADER: webhooks.sign(secret, timestamp=int(now.timestamp()), body=body)})
    try:
        with _opener.open(request, timeout=settings.notify_timeout_s) as response:
            return "sent", int(response.status), None
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"{note.recipient} answered HTTP {exc.code}", status_code=exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryFailed(f"{note.recipient}: {type(exc).__name__}: {exc}") from exc
