"""Connector bindings (admin only): where a partner system's calls go and the credential they carry.

The admin decides the hosts: a package names only a system and a path. Secrets are written here
and never read back (the list says only whether one is set).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminActor, ContextDep, SessionDep
from api.routing import router
from engine.connectors import bindings as bindings
from engine.models import ConnectorBinding

routes = router(tags=["connectors"])
System = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="the partner system's code")]


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
    environment: str
    base_url: str
    auth_kind: str
    auth_header: str | None
    has_secret: bool
    updated_by: str
    updated_at: datetime


def _read(row: ConnectorBinding) -> ConnectorBindingRead:
    return ConnectorBindingRead(system=row.system, environment=row.environment, base_url=row.base_url,
                                auth_kind=row.auth_kind, auth_header=row.auth_header,
                                has_secret=bool(row.secret_sealed), updated_by=row.updated_by,
                                updated_at=row.updated_at)


@routes.get("/api/connectors", response_model=list[ConnectorBindingRead])
def list_connectors(actor: AdminActor, session: SessionDep) -> list[ConnectorBindingRead]:
    """List the partner systems' bindings, without their secrets."""
    return [_read(row) for row in bindings.list_bindings(session)]


@routes.put("/api/connectors/{system}", response_model=ConnectorBindingRead)
def bind_connector(system: System, body: ConnectorBindingUpdate, actor: AdminActor, session: SessionDep,
                   ctx: ContextDep) -> ConnectorBindingRead:
    """Bind a partner system to a base URL and credential (the secret is sealed and never shown again)."""
    change = bindings.BindingChange(body.base_url, body.auth_kind, body.auth_header, body.secret)
    row = bindings.set_binding(session, system=system, change=change, actor=actor.username,
                               key=ctx.settings.secret_key.get_secret_value())
    return _read(row)


@routes.delete("/api/connectors/{system}", status_code=204)
def unbind_connector(system: System, actor: AdminActor, session: SessionDep) -> None:
    """Remove a partner system's binding; its calls wait (and then fail) until it is bound again."""
    bindings.delete_binding(session, system=system, actor=actor.username)
