"""Routing: which role, organisation and person an open user task goes to. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

APPLICANT_ROLE = "applicant"
AGENCY_CODE = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class Route:
    """Where a task goes: a role, optionally bound to one organisation or one person."""

    role: str
    agency: str
    bound_org: str | None = None
    assignee: str | None = None


class RoutingError(Exception):
    """A task cannot be routed; `field` names the case-data key at fault, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def agency_of(role: str) -> str:
    """Return the agency part of an `agency.role` key (the applicant role has none)."""
    return role.split(".", 1)[0] if "." in role else role


def route(
    *,
    role: str | None,
    bind_organisation: str | None,
    bind_user: str | None,
    data: Mapping[str, Any],
    organisation_exists: Callable[[str, str], bool],
    bind_agency: str | None = None,
    role_exists: Callable[[str], bool] | None = None,
) -> Route:
    """Route a task from its lane's role and bindings and the case data.

    `organisation_exists(code, marketplace)` tells whether `code` is an organisation that may
    take tasks of the marketplace agency `marketplace` (the role's agency). `role_exists(key)`
    tells whether the directory holds a role, for a lane that binds its agency (`bind_agency`).
    """
    if not role:
        raise RoutingError("the task's lane names no role")
    if bind_agency and role_exists is not None:
        role = agency_role(role=role, value=data.get(bind_agency), field=bind_agency, role_exists=role_exists)
    agency = agency_of(role)
    bound_org = None
    if bind_organisation:
        value = data.get(bind_organisation)
        if not isinstance(value, str) or not value:
            raise RoutingError(f"no organisation chosen in '{bind_organisation}'", bind_organisation)
        if not organisation_exists(value, agency):
            raise RoutingError(f"'{value}' is not a registered provider of '{agency}'", bind_organisation)
        bound_org = value
    assignee = None
    if bind_user:
        value = data.get(bind_user)
        if not isinstance(value, str) or not value:
            raise RoutingError(f"no person chosen in '{bind_user}'", bind_user)
        assignee = value
    return Route(role=role, agency=agency, bound_org=bound_org, assignee=assignee)


def agency_role(*, role: str, value: Any, field: str, role_exists: Callable[[str], bool]) -> str:
    """Return the same role of the agency named in `value` (`pupr` + `dpmptsp.pengaduan` → `pupr.pengaduan`).

    No agency named keeps the lane's role; so does an agency without that role (the lane's role is
    the fallback, e.g. the mall's complaints officer). A value that is not an agency code is refused.
    """
    if value is None or value == "":
        return role
    if not isinstance(value, str) or not AGENCY_CODE.match(value):
        raise RoutingError(f"'{value}' is not an agency code", field)
    moved = f"{value}.{role.split('.', 1)[1]}" if "." in role else role
    return moved if role_exists(moved) else role


def may_work_on(
    *,
    task_role: str,
    task_bound_org: str | None,
    task_assignee: int | None,
    user_id: int,
    memberships: set[tuple[str, str]],
    applicant_id: int | None,
    task_escalated_to: str | None = None,
) -> bool:
    """Tell whether a user may see and complete a task, from their (role, organisation) pairs.

    `applicant_id` is the case's applicant, or its filer when it was filed for a walk-in.
    An overdue task escalated to a supervisor role is open to that role too (same organisation rule).
    """
    if task_assignee is not None and task_assignee != user_id:
        return False
    if task_role == APPLICANT_ROLE:
        # A walk-in case has no applicant account: its filer (front office) acts for them.
        return applicant_id == user_id
    for role, org in memberships:
        if role != task_role and (task_escalated_to is None or role != task_escalated_to):
            continue
        if task_bound_org is None or org == task_bound_org:
            return True
    return False
