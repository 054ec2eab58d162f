"""Record administrative changes with their actor."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.models import AuditEntry, utcnow


def record(session: Session, *, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None) -> None:
    """Append one entry to the audit log (in the caller's transaction)."""
    session.add(AuditEntry(at=utcnow(), actor=actor, action=action, subject=subject, detail=detail))
    session.flush()
