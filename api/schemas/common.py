"""Shared shapes of the JSON API: the base model, literals, bilingual text."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Channel = Literal["tatap_muka", "drive_thru", "terpadu", "daring"]
PlatformRole = Literal["admin", "analyst", "officer", "applicant"]
AgencyKind = Literal["city_office", "provincial_office", "vertical", "state_company", "private"]


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Text(Model):
    id: str = ""
    en: str = ""
