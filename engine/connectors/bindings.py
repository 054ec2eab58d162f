"""Admins bind a partner system: its base URL and credential, per environment; secrets sealed.

The host of every outbound call comes from here (never from a package), so the platform calls
only hosts an admin chose. The secret is sealed with engine.crypto and never read back out.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import crypto as crypto
from engine.connectors.spec import SYSTEM
from engine.directory import audit as audit
from engine.errors import InvalidInput, NotFound
from engine.models import ConnectorBinding, utcnow

PURPOSE = "mpp connector secrets"
AUTH_KINDS = ("none", "bearer", "header")
DEFAULT_ENVIRONMENT = "default"


class BindingNotFound(NotFound):
    """No binding exists for this system and environment."""


@dataclass(frozen=True)
class BindingChange:
    """What an admin sets on a binding; `secret` None keeps the stored one."""

    base_url: str
    auth_kind: str = "none"
    auth_header: str | None = None
    secret: str | None = None


def check_base_url(url: str) -> str:
    """Return a base URL without its trailing slash; refuse anything but a plain http(s) address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("Alamat dasar harus http(s)://host. / The base URL must be an http(s):// address with a "
                           "host.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidInput("Alamat dasar tidak boleh memuat kredensial, query, atau fragmen. / The base URL may not "
                           "carry credentials, a query or a fragment: put the secret in the binding.")
    return url.rstrip("/")


def _check(system: str, change: BindingChange) -> None:
    if not SYSTEM.match(system):
        raise InvalidInput(f"Kode sistem '{system}' tidak sah. / The system code '{system}' is not valid.")
    if change.auth_kind not in AUTH_KINDS:
        raise InvalidInput(f"Jenis autentikasi harus salah satu dari {', '.join(AUTH_KINDS)}. / "
                           f"The auth kind must be one of {', '.join(AUTH_KINDS)}.")
    if change.auth_kind == "header" and not change.auth_header:
        raise InvalidInput("Autentikasi 'header' perlu nama header. / Auth kind 'header' needs a header name.")


def find(session: Session, *, system: str, environment: str = DEFAULT_ENVIRONMENT) -> ConnectorBinding | None:
    """Return the binding of a system in an environment, or None."""
    return session.scalar(select(ConnectorBinding).where(ConnectorBinding.system == system,
                                                         ConnectorBinding.environment == environment))


def set_binding(session: Session, *, system: str, change: BindingChange, actor: str, key: str,
                environment: str = DEFAULT_ENVIRONMENT) -> ConnectorBinding:
    """Create or change a system's binding (audited; the secret is sealed and not audited)."""
    _check(system, change)
    base_url = check_base_url(change.base_url)
    row = find(session, system=system, environment=environment)
    if row is None:
        row = ConnectorBinding(system=system, environment=environment, base_url=base_url, updated_by=actor)
        session.add(row)
    row.base_url, row.auth_kind, row.updated_by, row.updated_at = base_url, change.auth_kind, actor, utcnow()
    row.auth_header = change.auth_header if change.auth_kind == "header" else None
    if change.secret is not None:
        row.secret_sealed = crypto.seal(change.secret, key=key, purpose=PURPOSE) if change.secret else None
    session.flush()
    audit.record(session, actor=actor, action="connector.bind", subject=f"{system}@{environment}",
                 detail={"base_url": base_url, "auth_kind": change.auth_kind,
                         "secret_changed": change.secret is not None})
    return row


def list_bindings(session: Session) -> list[ConnectorBinding]:
    """List every binding, by system and environment."""
    return list(session.scalars(select(ConnectorBinding).order_by(ConnectorBinding.system,
                                                                  ConnectorBinding.environment)))


def delete_binding(session: Session, *, system: str, actor: str, environment: str = DEFAULT_ENVIRONMENT) -> None:
    """Remove a binding (audited); calls to the system then fail until it is bound again."""
    row = find(session, system=system, environment=environment)
    if row is None:
        raise BindingNotFound(f"Sistem '{system}' belum diikat. / The system '{system}' is not bound.")
    session.delete(row)
    audit.record(session, actor=actor, action="connector.unbind", subject=f"{system}@{environment}")


def auth_headers(row: ConnectorBinding, *, key: str) -> dict[str, str]:
    """Return the header that carries the binding's credential (empty without one)."""
    if row.auth_kind == "none" or not row.secret_sealed:
        return {}
    secret = crypto.unseal(row.secret_sealed, key=key, purpose=PURPOSE, what=f"secret of '{row.system}'")
    if row.auth_kind == "bearer":
        return {"Authorization": f"Bearer {secret}"}
    return {str(row.auth_header): secret}
