"""Roles and agencies are declared: lanes name only declared (or known) roles, deployment invents none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.catalogue.package import Package, from_files
from engine.context import AppContext
from engine.db import transaction
from engine.directory import service as directory
from engine.errors import NotFound, PackageInvalid, Problem
from engine.lint.service import lint_package
from engine.models import Agency, Role
from tests.factories import deploy
from tests.packages import AGENCY, STANDARD, simple_package

CUSTOMS = """
[[agencies]]
code = "bea_cukai"
kind = "vertical"
name = { id = "Kantor Bea dan Cukai Yogyakarta", en = "Yogyakarta Customs Office" }
roles = [
  { key = "kepala_seksi", name = { id = "Kepala Seksi Pelayanan", en = "Head of the customs service section" } },
  { key = "pemeriksa", name = { id = "Pemeriksa Barang", en = "Goods examiner" } },
]
"""


def package(lane: str = "Petugas [dinas.petugas]", *, service_tail: str = AGENCY,
            lane_props: str = "", key: str = "uji_peran") -> Package:
    """The simple test package with its one lane renamed and service.toml's agencies replaced."""
    base = simple_package(key)
    service = base.files["service.toml"].decode().replace(AGENCY, service_tail)
    bpmn = base.files["process.bpmn"].decode().replace(
        '<bpmn:lane id="Lane_petugas" name="Petugas [dinas.petugas]">',
        f'<bpmn:lane id="Lane_petugas" name="{lane}">{lane_props}')
    return from_files({**base.files, "service.toml": service.encode(), "process.bpmn": bpmn.encode()})


def role_property(role: str) -> str:
    return ("<bpmn:extensionElements><spiffworkflow:properties>"
            f'<spiffworkflow:property name="role" value="{role}"/>'
            "</spiffworkflow:properties></bpmn:extensionElements>")


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


# ---------------------------------------------------------------- lint


def test_declared_roles_lint_clean() -> None:
    assert lint_package(package()) == []


def test_a_lane_role_typo_is_refused_with_the_lane_and_the_closest_role() -> None:
    tail = AGENCY + CUSTOMS
    [problem] = errors(lint_package(package("Kepala Seksi [bea_cukai.kepala_seski]", service_tail=tail)))
    assert (problem.file, problem.element_id) == ("process.bpmn", "Lane_petugas")
    assert "Kepala Seksi [bea_cukai.kepala_seski]" in problem.message
    assert "'bea_cukai.kepala_seski' is not declared" in problem.message
    assert "did you mean 'bea_cukai.kepala_seksi'?" in problem.message
    assert "maksud Anda 'bea_cukai.kepala_seksi'?" in problem.message_id


def test_a_role_of_an_undeclared_agency_is_refused() -> None:
    [problem] = errors(lint_package(package("Pemeriksa [bea_cukai.pemeriksa]")))
    assert problem.element_id == "Lane_petugas"
    assert "agency 'bea_cukai'" in problem.message
    assert "[[agencies]]" in problem.message
    assert "instansi 'bea_cukai'" in problem.message_id


def test_the_publishing_agency_must_be_declared() -> None:
    # The lane's role is the applicant's, so only the publisher `dinas` is missing.
    problems = errors(lint_package(package("Pemohon [applicant]", service_tail=STANDARD)))
    assert [(p.file, p.element_id) for p in problems] == [("service.toml", None)]
    assert "publishing agency 'dinas'" in problems[0].message
    assert problems[0].message_id


def test_a_role_known_in_the_directory_is_accepted() -> None:
    borrowed = package("Pemeriksa [bea_cukai.pemeriksa]")
    assert lint_package(borrowed, known_roles={"bea_cukai.pemeriksa"}) == []
    # Knowing another role of the agency is not enough, and the suggestion draws on the directory.
    [problem] = errors(lint_package(package("Pemeriksa [bea_cukai.pemeriksaa]"), known_roles={"bea_cukai.pemeriksa"}))
    assert "did you mean 'bea_cukai.pemeriksa'?" in problem.message


def test_candidate_groups_name_declared_roles() -> None:
    base = package("Pemohon [applicant]")
    bpmn = base.files["process.bpmn"].decode().replace(
        '<bpmn:userTask id="Task_periksa"',
        '<bpmn:userTask xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Task_periksa" '
        'camunda:candidateGroups="dinas.petugas, dinas.petugs"')
    [problem] = errors(lint_package(from_files({**base.files, "process.bpmn": bpmn.encode()})))
    assert problem.element_id == "Task_periksa"
    assert "did you mean 'dinas.petugas'?" in problem.message


def test_a_lane_name_showing_another_role_than_its_property_is_a_warning() -> None:
    tail = AGENCY.replace('roles = [{ key = "petugas"',
                          'roles = [{ key = "kepala", name = { id = "Kepala", en = "Head" } }, { key = "petugas"')
    problems = lint_package(package("Kepala Dinas [dinas.kepala]", service_tail=tail,
                                    lane_props=role_property("dinas.petugas")))
    [problem] = problems
    assert (problem.severity, problem.element_id) == ("warning", "Lane_petugas")
    assert "'dinas.kepala'" in problem.message
    assert "'dinas.petugas'" in problem.message
    assert problem.message_id


@pytest.mark.parametrize(("roles", "expected"), [
    ('"petugas"', "roles must be a list"),
    ('[{ key = "Petugas Loket", name = { id = "P", en = "O" } }]', "key must be the role's own part"),
    ('[{ key = "petugas" }]', "role 'petugas': name must be a table"),
    ('[{ key = "petugas", name = { id = "Petugas" } }]', "role 'petugas': name.en is missing"),
    ('[{ key = "a", name = { id = "A", en = "A" } }, { key = "a", name = { id = "A", en = "A" } }]',
     "role 'a' is declared twice"),
])
def test_the_roles_shape_is_checked(roles: str, expected: str) -> None:
    tail = AGENCY.replace('roles = [{ key = "petugas", name = { id = "Petugas", en = "Officer" } }]',
                          f"roles = {roles}")
    problems = [p for p in lint_package(package("Pemohon [applicant]", service_tail=tail))
                if p.file == "service.toml"]
    assert any(expected in p.message and p.message_id for p in problems), [p.message for p in problems]


# ---------------------------------------------------------------- deploy


def test_deploy_creates_exactly_the_declared_agencies_and_roles(ctx: AppContext) -> None:
    with ctx.sessions() as session:
        agencies_before = set(session.scalars(select(Agency.code)))
        roles_before = set(session.scalars(select(Role.key)))
    result = deploy(ctx, package("Pemeriksa [bea_cukai.pemeriksa]", service_tail=AGENCY + CUSTOMS))
    assert result.new_roles == ["bea_cukai.kepala_seksi", "bea_cukai.pemeriksa", "dinas.petugas"]
    with ctx.sessions() as session:
        agencies = {a.code: a for a in session.scalars(select(Agency))}
        roles = {r.key: r for r in session.scalars(select(Role))}
    assert set(agencies) - agencies_before == {"dinas", "bea_cukai"}
    assert (agencies["bea_cukai"].kind, agencies["bea_cukai"].name_en) == ("vertical", "Yogyakarta Customs Office")
    assert set(roles) - roles_before == {"bea_cukai.kepala_seksi", "bea_cukai.pemeriksa", "dinas.petugas"}
    assert roles["bea_cukai.pemeriksa"].name == "Pemeriksa Barang"
    assert roles["bea_cukai.pemeriksa"].agency_code == "bea_cukai"


def test_deploy_refuses_an_undeclared_role_and_creates_nothing(ctx: AppContext) -> None:
    with pytest.raises(PackageInvalid) as refused:
        deploy(ctx, package("Pemeriksa [bea_cukai.pemeriksa]"))
    assert [p.element_id for p in errors(refused.value.problems)] == ["Lane_petugas"]
    with ctx.sessions() as session:
        assert session.scalar(select(Agency).where(Agency.code.in_(["bea_cukai", "dinas"]))) is None
        assert session.scalar(select(Role).where(Role.key.like("bea_cukai.%"))) is None


def test_a_package_may_use_a_role_another_package_declared(ctx: AppContext) -> None:
    deploy(ctx, package("Pemeriksa [bea_cukai.pemeriksa]", service_tail=AGENCY + CUSTOMS))
    # Offline this package cannot know bea_cukai; at deploy time the directory holds it.
    borrower = package("Pemeriksa [bea_cukai.pemeriksa]", key="uji_pinjam")
    assert errors(lint_package(borrower))
    result = deploy(ctx, borrower)
    assert (result.created, result.new_roles) == (True, [])


def test_the_directory_never_invents_an_agency_for_a_role(ctx: AppContext) -> None:
    with transaction(ctx.sessions) as session, pytest.raises(NotFound):
        directory.ensure_roles(session, ["tidak_ada.petugas"])
    with transaction(ctx.sessions) as session, pytest.raises(NotFound):
        directory.create_role(session, key="tidak_ada.petugas", name="Petugas")
    with ctx.sessions() as session:
        assert session.scalar(select(Agency).where(Agency.code == "tidak_ada")) is None
