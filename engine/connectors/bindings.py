"""Admins bind a partner system: its base URL and credential, per agency and environment; secrets sealed.

The host of every outbound call comes from here (never from a package), so the platform calls
only hosts an admin chose. A binding with agency "" serves every agency; an agency's own binding
in the same environment wins over it. The platform uses the bindings of its own environment
(MPP_ENVIRONMENT). The secret is sealed with engine.crypto and never read back out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import crypto as crypto
from engine.connectors.spec import SYSTEM
from engine.directory import audit as audit
from engine.errors import InvalidInput, NotFound
from engine.models import Agency, Case, ConnectorBinding, ProcessVersion, utcnow
from engine.settings import Settings

PURPOSE = "mpp connector secrets"
AUTH_KINDS = ("none", "bearer", "header")
DEFAULT_ENVIRONMENT = "default"
ALL_AGENCIES = ""
ENVIRONMENT = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")  # as Settings.environment
AGENCY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class BindingNotFound(NotFound):
    """No binding exists for this system, agency and environment."""


@dataclass(frozen=True)
class BindingChange:
    """What an admin sets on a binding; `secret` None keeps the stored one."""

    base_url: str
    auth_kind: str = "none"
    auth_header: str | None = None
    secret: str | None = None


@dataclass(frozen=True)
class Scope:
    """Which binding of a system: an agency ("" for every agency) in an environment."""

    agency: str = ALL_AGENCIES
    environment: str = DEFAULT_ENVIRONMENT

    def label(self, system: str) -> str:
        """Return the audit subject of the system's binding in this scope, e.g. `bpjs_tk:*@default`."""
        return f"{system}:{self.agency or '*'}@{self.environment}"


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


def check_scope(session: Session, scope: Scope) -> None:
    """Refuse an environment that is not a code, or an agency the directory does not know."""
    if not ENVIRONMENT.match(scope.environment):
        raise InvalidInput(f"Lingkungan '{scope.environment}' tidak sah (huruf kecil, angka, '_' atau '-'). / "
                           f"The environment '{scope.environment}' is not valid (lower-case letters, digits, '_' "
                           f"or '-').")
    if scope.agency and (not AGENCY.match(scope.agency)
                         or session.scalar(select(Agency.id).where(Agency.code == scope.agency)) is None):
        raise InvalidInput(f"Instansi '{scope.agency}' tidak dikenal. / The agency '{scope.agency}' is not known.")


def _check(system: str, change: BindingChange) -> None:
    if not SYSTEM.match(system):
        raise InvalidInput(f"Kode sistem '{system}' tidak sah. / The system code '{system}' is not valid.")
    if change.auth_kind not in AUTH_KINDS:
        raise InvalidInput(f"Jenis autentikasi harus salah satu dari {', '.join(AUTH_KINDS)}. / "
                           f"The auth kind must be one of {', '.join(AUTH_KINDS)}.")
    if change.auth_kind == "header" and not change.auth_header:
        raise InvalidInput("Autentikasi 'header' perlu nama header. / Auth kind 'header' needs a header name.")


def exact(session: Session, *, system: str, scope: Scope) -> ConnectorBinding | None:
    """Return the binding of a system for exactly this agency and environment, or None."""
    return session.scalar(select(ConnectorBinding).where(ConnectorBinding.system == system,
                                                         ConnectorBinding.agency == scope.agency,
                                                         ConnectorBinding.environment == scope.environment))


def find(session: Session, *, system: str, agency: str = ALL_AGENCIES,
         environment: str = DEFAULT_ENVIRONMENT) -> ConnectorBinding | None:
    """Return the binding a call of an agency uses in an environment: the agency's own, else the all-agencies one."""
    if agency:
        own = exact(session, system=system, scope=Scope(agency, environment))
        if own is not None:
            return own
    return exact(session, system=system, scope=Scope(ALL_AGENCIES, environment))


def resolve(session: Session, *, system: str, agency: str, settings: Settings) -> ConnectorBinding | None:
    """Return the binding a call of an agency uses in the platform's environment (MPP_ENVIRONMENT), or None."""
    return find(session, system=system, agency=agency, environment=settings.environment)


def case_agency(session: Session, case_id: int | None) -> str:
    """Return the agency of a case's service (its version's service.toml `agency`), "" when unknown."""
    if case_id is None:
        return ALL_AGENCIES
    service = session.scalar(select(ProcessVersion.service)
                             .join(Case, Case.process_version_id == ProcessVersion.id).where(Case.id == case_id))
    agency = (service or {}).get("agency")
    return agency if isinstance(agency, str) else ALL_AGENCIES


def set_binding(session: Session, *, system: str, change: BindingChange, actor: str, key: str,
                environment: str = DEFAULT_ENVIRONMENT, agency: str = ALL_AGENCIES) -> ConnectorBinding:
    """Create or change a system's binding for an agency and environment (audited; the secret is not)."""
    scope = Scope(agency, environment)
    _check(system, change)
    check_scope(session, scope)
    base_url = check_base_url(change.base_url)
    row = exact(session, system=system, scope=scope)
    if row is None:
        row = ConnectorBinding(system=system, agency=agency, environment=environment, base_url=base_url,
                               updated_by=actor)
        session.add(row)
    row.base_url, row.auth_kind, row.updated_by, row.updated_at = base_url, change.auth_kind, actor, utcnow()
    row.auth_header = change.auth_header if change.auth_kind == "header" else None
    if change.secret is not None:
        row.secret_sealed = crypto.seal(change.secret, key=key, purpose=PURPOSE) if change.secret else None
    session.flush()
    audit.record(session, actor=actor, action="connector.bind", subject=scope.label(system),
                 detail={"base_url": base_url, "auth_kind": change.auth_kind, "agency": agency,
                         "environment": environment, "secret_changed": change.secret is not None})
    return row


def list_bindings(session: Session, *, system: str | None = None) -> list[ConnectorBinding]:
    """List every binding (or a system's), by system, environment and agency."""
    query = select(ConnectorBinding).order_by(ConnectorBinding.system, ConnectorBinding.environment,
                                              ConnectorBinding.agency)
    if system is not None:
        query = query.where(ConnectorBinding.system == system)
    return list(session.scalars(query))


def delete_binding(session: Session, *, system: str, actor: str, environment: str = DEFAULT_ENVIRONMENT,
                   agency: str = ALL_AGENCIES) -> None:
    """Remove a binding (audited); calls it served then use the all-agencies one, or fail until bound again."""
    scope = Scope(agency, environment)
    row = exact(session, system=system, scope=scope)
    if row is None:
        where = f" untuk instansi {agency}" if agency else ""
        where_en = f" for the agency {agency}" if agency else ""
        raise BindingNotFound(f"Sistem '{system}' belum diikat{where} di lingkungan {environment}. / The system "
                              f"'{system}' is not bound{where_en} in the environment {environment}.")
    session.delete(row)
    audit.record(session, actor=actor, action="connector.unbind", subject=scope.label(system),
                 detail={"agency": agency, "environment": environment})


def auth_headers(row: ConnectorBinding, *, key: str) -> dict[str, str]:
    """Return the header that carries the binding's credential (empty without one)."""
    if row.auth_kind == "none" or not row.secret_sealed:
        return {}
    secret = crypto.unseal(row.secret_sealed, key=key, purpose=PURPOSE, what=f"secret of '{row.system}'")
    if row.auth_kind == "bearer":
        return {"Authorization": f"Bearer {secret}"}
    return {str(row.auth_header): secret}
