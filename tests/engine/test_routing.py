"""Routing is a pure function: lanes, bindings and memberships decide who gets a task."""

from __future__ import annotations

import pytest

from engine.cases.assignment import Route, RoutingError, may_work_on, route

PROVIDERS = {("konsultan_griya", "konsultan"), ("konsultan", "konsultan"), ("pupr", "pupr")}


def _exists(code: str, marketplace: str) -> bool:
    return (code, marketplace) in PROVIDERS


def test_a_lane_role_routes_to_its_agency() -> None:
    assert route(role="pupr.tpa", bind_organisation=None, bind_user=None, data={},
                 organisation_exists=_exists) == Route("pupr.tpa", "pupr")


def test_a_bound_lane_routes_to_the_organisation_named_in_the_data() -> None:
    where = route(role="konsultan.perencana", bind_organisation="consultant", bind_user=None,
                  data={"consultant": "konsultan_griya"}, organisation_exists=_exists)
    assert (where.agency, where.bound_org) == ("konsultan", "konsultan_griya")


@pytest.mark.parametrize("data", [{}, {"consultant": ""}, {"consultant": 7}, {"consultant": "konsultan_fiktif"}])
def test_a_bound_lane_without_a_valid_choice_names_the_field(data: dict[str, object]) -> None:
    with pytest.raises(RoutingError) as info:
        route(role="konsultan.perencana", bind_organisation="consultant", bind_user=None, data=data,
              organisation_exists=_exists)
    assert info.value.field == "consultant"


def test_a_lane_bound_to_a_person_assigns_the_task() -> None:
    where = route(role="pupr.tpa", bind_organisation=None, bind_user="ketua_tpa", data={"ketua_tpa": "ir_budi"},
                  organisation_exists=_exists)
    assert where.assignee == "ir_budi"


def test_a_lane_without_a_role_cannot_route() -> None:
    with pytest.raises(RoutingError):
        route(role=None, bind_organisation=None, bind_user=None, data={}, organisation_exists=_exists)


def _may(role: str, bound: str | None = None, assignee: int | None = None, user: int = 1,
         memberships: set[tuple[str, str]] | None = None, applicant: int | None = None) -> bool:
    return may_work_on(task_role=role, task_bound_org=bound, task_assignee=assignee, user_id=user,
                       memberships=memberships or set(), applicant_id=applicant)


def test_who_may_work_on_a_task() -> None:
    tpa = {("pupr.tpa", "pupr")}
    griya = {("konsultan.perencana", "konsultan_griya")}
    assert _may("pupr.tpa", memberships=tpa)
    assert not _may("pupr.teknis", memberships=tpa)
    assert _may("konsultan.perencana", bound="konsultan_griya", memberships=griya)
    assert not _may("konsultan.perencana", bound="konsultan_mataram", memberships=griya)
    assert not _may("pupr.tpa", assignee=2, user=1, memberships=tpa)  # claimed by someone else
    assert _may("pupr.tpa", assignee=1, user=1, memberships=tpa)
    assert _may("applicant", user=5, applicant=5)
    assert not _may("applicant", user=6, applicant=5, memberships=tpa)


ROLES = {"dpmptsp.pengaduan", "polresta.pengaduan"}


@pytest.mark.parametrize(("agency", "expected"), [
    ("polresta", "polresta.pengaduan"),  # the agency holds the lane's role key: it takes the task
    ("bapenda", "dpmptsp.pengaduan"),  # it does not: the lane's own role is the fallback
    (None, "dpmptsp.pengaduan"), ("", "dpmptsp.pengaduan"),  # no agency named
])
def test_a_lane_bound_to_an_agency_moves_its_role_there(agency: str | None, expected: str) -> None:
    where = route(role="dpmptsp.pengaduan", bind_organisation=None, bind_user=None,
                  data={"instansi_pengaduan": agency}, organisation_exists=_exists,
                  bind_agency="instansi_pengaduan", role_exists=ROLES.__contains__)
    assert (where.role, where.agency) == (expected, expected.split(".")[0])


@pytest.mark.parametrize("agency", ["Polresta", "polresta.pengaduan", 7, "a b"])
def test_a_lane_bound_to_an_agency_refuses_what_is_not_an_agency_code(agency: object) -> None:
    with pytest.raises(RoutingError) as info:
        route(role="dpmptsp.pengaduan", bind_organisation=None, bind_user=None, data={"instansi_pengaduan": agency},
              organisation_exists=_exists, bind_agency="instansi_pengaduan", role_exists=ROLES.__contains__)
    assert info.value.field == "instansi_pengaduan"
