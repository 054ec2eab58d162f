"""Shapes of the directory: agencies, roles, users, memberships."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas.common import AgencyKind, Model, PlatformRole


class AgencyCreate(Model):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name_id: str = Field(min_length=2, max_length=255)
    name_en: str = Field(default="", max_length=255)
    kind: AgencyKind = "city_office"
    parent_code: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{1,63}$")


class AgencyRead(Model):
    id: int
    code: str
    kind: str
    name_id: str
    name_en: str
    parent_code: str | None


ROLE_KEY = r"^[a-z][a-z0-9_]{0,63}\.[a-z][a-z0-9_]{0,63}$"


class RoleCreate(Model):
    key: str = Field(pattern=ROLE_KEY, max_length=129)
    name: str = Field(default="", max_length=255)


class RoleRead(Model):
    id: int
    key: str
    agency_code: str
    name: str


class UserCreate(Model):
    username: str = Field(pattern=r"^[a-z0-9_.-]{3,120}$")
    password: str = Field(min_length=8, max_length=200)
    platform_role: PlatformRole = "applicant"
    display_name: str = Field(default="", max_length=255)
    email: str | None = Field(default=None, max_length=255)
    language: Literal["id", "en"] = "id"


class UserUpdate(Model):
    display_name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=255)
    platform_role: PlatformRole | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)
    language: Literal["id", "en"] | None = Field(default=None, description="the language of the user's e-mails")


class UserRead(Model):
    id: int
    username: str
    display_name: str
    email: str | None
    platform_role: str
    language: str
    active: bool


class MembershipCreate(Model):
    role_key: str = Field(pattern=ROLE_KEY, max_length=129)
    organisation_code: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{1,63}$")


class MembershipRead(Model):
    id: int
    user_id: int
    role_key: str
    organisation_code: str
