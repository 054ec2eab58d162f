"""Shapes of the process catalogue: versions, lint problems, deployments."""

from __future__ import annotations

from datetime import datetime

from api.schemas.common import Model, Text


class RetirementRead(Model):
    """When, by whom and why a service was retired (shown to staff only)."""

    retired_at: datetime
    retired_by: str
    reason: str


class ProcessRead(Model):
    key: str
    version: int
    agency: str
    name: Text
    description: Text | None = None
    product: Text | None = None
    fee: Text | None = None
    sla_days: int | None = None
    channels: list[str]
    requirements: list[Text] = []
    deployed_at: datetime
    running_cases: int | None = None
    retired: RetirementRead | None = None


class ProcessVersionRead(Model):
    version: int
    content_hash: str
    deployed_at: datetime
    deployed_by: str
    roles: list[str]
    files: list[str]


class ProcessDetailRead(Model):
    key: str
    latest: ProcessRead
    versions: list[ProcessVersionRead]
    retired: RetirementRead | None = None


class ProcessLifecycleRead(Model):
    """A service's state after a retire or restore: `retired` is null while it takes applications."""

    key: str
    retired: RetirementRead | None = None


class ProblemItem(Model):
    file: str
    element_id: str | None
    element_name: str = ""
    message: str
    message_id: str = ""
    severity: str


class LintRead(Model):
    ok: bool
    problems: list[ProblemItem]


class DeployRead(Model):
    key: str
    version: int
    created: bool
    new_roles: list[str]
    warnings: list[str]
