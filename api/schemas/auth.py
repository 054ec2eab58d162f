"""Shapes of sign-in and the caller's own account."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas.common import Model


class TokenRead(Model):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="seconds until the token expires")


class MeRead(Model):
    id: int
    username: str
    display_name: str
    platform_role: str
    language: str
    memberships: list[MembershipPair]


class MembershipPair(Model):
    role: str
    organisation: str
