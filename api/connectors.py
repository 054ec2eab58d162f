"""Connector bindings (admin only): where a partner system's calls go and the credential they carry.

The admin decides the hosts: a package names only a system and a path. A binding belongs to an
agency (`agency` query parameter; omitted or empty: every agency) in an environment
(`environment`; omitted: the platform's own, MPP_ENVIRONMENT). Secrets are written here and never
read back (the answers say only whether one is set).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminActor, ContextDep, SessionDep
from api.routing import router
from engine.connectors import bindings as bindings
from engine.models import ConnectorBinding

routes = router(tags=["connectors"])
System = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="the partner system's code")]
AgencyArg = Annotated[str, Query(pattern=r"^([a-z][a-z0-9_]{0,63})?$",
                                 description="the agency whose binding this is; empty: every agency")]
EnvironmentArg = Annotated[str | None, Query(pattern=bindings.ENVIRONMENT.pattern,
                                             description="the environment; omitted: the platform's own")]


class ConnectorBindingUpdate(BaseModel):
    base_url: str = Field(min_length=8, max_length=2000, description="http(s) address the package's paths join")
    auth_kind: Literal["none", "bearer", "header"] = "none"
    auth_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,120}$",
                                    description="header carrying the secret when auth_kind is 'header'")
    secret: str | None = Field(default=None, max_length=4000,
                               description="the credential; omitted keeps the stored one, empty removes it")


class ConnectorBindingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    system: str
    agency: str = Field(description="the agency whose calls use it; empty: every agency without its own")
    environment: str
    base_url: str
    auth_kind: str
    auth_header: str | None
    has_secret: bool
    updated_by: str
    updated_at: datetime


def _read(row: ConnectorBinding) -> ConnectorBindingRead:
    return ConnectorBindingRead(system=row.system, agency=row.agency, environment=row.environment,
                                base_url=row.base_url, auth_kind=row.auth_kind, auth_header=row.auth_header,
                                has_secret=bool(row.secret_sealed), updated_by=row.updated_by,
                                updated_at=row.updated_at)


def _scope(ctx: ContextDep, agency: str, environment: str | None) -> bindings.Scope:
    return bindings.Scope(agency, environment or ctx.settings.environment)


@routes.get("/api/connectors", response_model=list[ConnectorBindingRead])
def list_connectors(actor: AdminActor, session: SessionDep) -> list[ConnectorBindingRead]:
    """List the partner systems' bindings in every agency and environment, without their secrets."""
    return [_read(row) for row in bindings.list_bindings(session)]


@routes.get("/api/connectors/{system}", response_model=ConnectorBindingRead)
def read_connector(system: System, actor: AdminActor, session: SessionDep, ctx: ContextDep,
                   agency: AgencyArg = "", environment: EnvironmentArg = None) -> ConnectorBindingRead:
    """Show a system's binding for exactly this agency and environment, without its secret."""
    scope = _scope(ctx, agency, environment)
    row = bindings.exact(session, system=system, scope=scope)
    if row is None:
        raise bindings.BindingNotFound(f"Sistem '{system}' belum diikat ({scope.label(system)}). / The system "
                                       f"'{system}' is not bound ({scope.label(system)}).")
    return _read(row)


@routes.put("/api/connectors/{system}", response_model=ConnectorBindingRead)
def bind_connector(system: System, body: ConnectorBindingUpdate, actor: AdminActor, session: SessionDep,
                   ctx: ContextDep, agency: AgencyArg = "", environment: EnvironmentArg = None) -> ConnectorBindingRead:
    """Bind a partner system to a base URL and credential (the secret is sealed and never shown again)."""
    scope = _scope(ctx, agency, environment)
    change = bindings.BindingChange(body.base_url, body.auth_kind, body.auth_header, body.secret)
    row = bindings.set_binding(session, system=system, change=change, actor=actor.username,
                               key=ctx.settings.secret_key.get_secret_value(), agency=scope.agency,
                               environment=scope.environment)
    return _read(row)


@routes.delete("/api/connectors/{system}", status_code=204)
def unbind_connector(system: System, actor: AdminActor, session: SessionDep, ctx: ContextDep,
                     agency: AgencyArg = "", environment: EnvironmentArg = None) -> None:
    """Remove a partner system's binding for an agency and environment; its calls then use another or wait."""
    scope = _scope(ctx, agency, environment)
    bindings.delete_binding(session, system=system, actor=actor.username, agency=scope.agency,
                            environment=scope.environment)
