"""Lint rule: every role a lane names is declared, by this package or already in the directory.

A lane's role is an `agency.role` key (docs/bpmn-conventions.md, "Lanes name roles"). Deployment
creates only the agencies and roles that service.toml declares, so a role nobody declared would
route tasks to an inbox no officer can ever be given: a typo (`bea_cukai.kepala_seski`) or an
agency the package forgot. This module finds those before deployment.

`known_roles` are the role keys already in the directory (the caller reads them at deploy time);
a package may route to a role another package declared. It is None when linting offline, where
the package must declare everything it uses.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from engine.bpmn import conventions as cv
from engine.errors import Problem

SERVICE = "service.toml"


def role_problems(
    service: dict[str, Any], documents: list[tuple[str, Any]], known_roles: set[str] | None
) -> list[Problem]:
    """Check that lanes and candidateGroups name only declared (or known) roles of declared agencies."""
    scope = _Scope(service, known_roles or set())
    problems = scope.publisher_problems()
    for file, root in documents:
        for lane in root.iter(f"{{{cv.BPMN_NS}}}lane"):
            info = cv.lane_info(lane)
            problems += _name_mismatch(file, lane, info)
            if info.role is not None:
                problems += scope.use_problems(file, info.lane_id, info.name, f"lane '{info.name or info.lane_id}'",
                                               f"lajur '{info.name or info.lane_id}'", info.role)
        for task in root.iter(f"{{{cv.BPMN_NS}}}userTask"):
            task_id = str(task.get("id", ""))
            for role in _candidate_roles(task):
                problems += scope.use_problems(file, task_id, str(task.get("name") or ""), f"user task '{task_id}'",
                                               f"tugas '{task_id}'", role)
    return problems


class _Scope:
    """The roles and agencies a package may use: its own declarations and the directory's."""

    def __init__(self, service: dict[str, Any], known_roles: set[str]) -> None:
        self.service = service
        self.roles = set(cv.declared_roles(service)) | known_roles
        self.agencies = cv.declared_agencies(service) | {_agency(r) for r in known_roles}

    def publisher_problems(self) -> list[Problem]:
        """Require the publishing agency to be declared, so deployment can create it with its names."""
        agency = self.service.get("agency")
        if not isinstance(agency, str) or not agency or agency in self.agencies:
            return []
        return [Problem(
            SERVICE, None,
            f"the publishing agency '{agency}' is not declared: add an [[agencies]] entry with code = \"{agency}\"",
            "error",
            f"instansi penerbit '{agency}' belum dideklarasikan: tambahkan [[agencies]] dengan code = \"{agency}\"",
        )]

    def use_problems(
        self, file: str, element_id: str, element_name: str, what_en: str, what_id: str, role: str
    ) -> list[Problem]:
        """Return the error for one use of a role, or nothing when the role may be used."""
        if role == cv.APPLICANT_ROLE or role in self.roles:
            return []
        agency = _agency(role)
        if agency not in self.agencies:
            english = (f"{what_en}: role '{role}' belongs to agency '{agency}', which service.toml does not "
                       "declare in [[agencies]]")
            indonesian = (f"{what_id}: peran '{role}' milik instansi '{agency}', yang tidak dideklarasikan "
                          "di [[agencies]] service.toml")
        else:
            english = (f"{what_en}: role '{role}' is not declared; add {{ key = \"{role.split('.', 1)[1]}\", "
                       f"name = {{ id = \"...\", en = \"...\" }} }} to the roles of agency '{agency}'")
            indonesian = (f"{what_id}: peran '{role}' belum dideklarasikan; tambahkan {{ key = "
                          f"\"{role.split('.', 1)[1]}\", name = {{ id = \"...\", en = \"...\" }} }} ke roles "
                          f"instansi '{agency}'")
        close = difflib.get_close_matches(role, sorted(self.roles), n=1)
        if close:
            english += f" (did you mean '{close[0]}'?)"
            indonesian += f" (maksud Anda '{close[0]}'?)"
        return [Problem(file, element_id, english, "error", indonesian, element_name)]


def _name_mismatch(file: str, lane: Any, info: cv.LaneInfo) -> list[Problem]:
    """Warn when a lane's name shows one role and its `role` property binds another."""
    shown = cv.role_from_lane_name(info.name)
    if info.role is None or shown is None or shown == info.role or "role" not in cv.element_properties(lane):
        return []
    return [Problem(
        file, info.lane_id,
        f"lane '{info.name}': the name shows role '{shown}' but the role property binds '{info.role}'; "
        f"its tasks go to '{info.role}'",
        "warning",
        f"lajur '{info.name}': namanya menunjukkan peran '{shown}' tetapi properti role mengikat '{info.role}'; "
        f"tugasnya diberikan kepada '{info.role}'",
        info.name,
    )]


def _candidate_roles(task: Any) -> Iterable[str]:
    """Yield the roles a user task's `camunda:candidateGroups` lists (malformed ones are lint.py's concern)."""
    groups = task.get(f"{{{cv.CAMUNDA_NS}}}candidateGroups") or ""
    return [g for g in (group.strip() for group in groups.split(",")) if cv.ROLE_RE.match(g)]


def _agency(role: str) -> str:
    return role.split(".", 1)[0]
