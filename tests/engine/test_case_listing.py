"""The staff case list and search walk an officer's case sources: same cases, same order, same rules.

The reference is the visibility condition as it stood before the walk (every rule as `IN (subquery)`),
kept here on purpose: the engine's sources, its EXISTS checks and this condition must agree on a
world that mixes every way an officer comes to read a case.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import and_, false, insert, or_, select, true
from sqlalchemy.orm import Session, aliased

from engine.bpmn.state import SERIALIZER_VERSION
from engine.cases import access as access
from engine.cases import listing as listing
from engine.cases import search as search
from engine.cases import service as cases
from engine.context import AppContext
from engine.db import transaction
from engine.directory import service as directory
from engine.directory.actors import Actor
from engine.models import Case, CaseEvent, OpenTask, ProcessVersion, TaskSpan

AGENCY = "dinas"
FIRMS = ("firm_a", "firm_b")
ROLES = ("dinas.petugas", "dinas.supervisor", "lain.petugas", "konsultan.petugas", "applicant")
SPAN_AGENCIES = ("dinas", "lain", "konsultan")
KEYS = ("svc_a", "svc_b")
AT = datetime(2026, 11, 1, tzinfo=UTC)


def reference_visible(actor: Actor) -> Any:
    """The visibility condition before the walk: each officer rule an `IN (subquery)`."""
    if actor.platform_role == "admin":
        return true()
    if actor.user_id is None or actor.platform_role not in ("applicant", "officer"):
        return false()
    if actor.platform_role == "applicant":
        return Case.applicant_id == actor.user_id
    with_task = select(OpenTask.case_id).where(access.visible_tasks(actor))
    acted = select(CaseEvent.case_id).where(CaseEvent.actor == actor.username)
    conditions = [Case.filed_by_id == actor.user_id, Case.id.in_(with_task), Case.id.in_(acted)]
    overseen = sorted(access.supervised_agencies(actor) | access.counter_agencies(actor))
    if overseen:
        conditions += [Case.id.in_(select(OpenTask.case_id).where(OpenTask.agency.in_(overseen))),
                       Case.id.in_(select(TaskSpan.case_id).where(TaskSpan.agency.in_(overseen)))]
    return or_(*conditions)


def _version(session: Session) -> int:
    version = ProcessVersion(key="svc_a", version=1, content_hash="x" * 64, service={}, roles=[])
    session.add(version)
    session.flush()
    return version.id


def _case_row(case_id: int, version_id: int, **values: Any) -> dict[str, Any]:
    number = f"MPP-{case_id // 10000:04d}-{case_id % 10000:04d}"
    return {"id": case_id, "tracking_number": number, "pin_hash": "x", "process_key": KEYS[case_id % 2],
            "process_version_id": version_id, "status": "running", "channel": "daring",
            "data": {"nama_pemohon": f"Warga {case_id}"}, "wf_meta": "{}", "serializer_version": SERIALIZER_VERSION,
            "created_at": AT + timedelta(minutes=case_id), "updated_at": AT} | values


def _task(rnd: random.Random, case_id: int, users: dict[str, int]) -> dict[str, Any]:
    role = rnd.choice(ROLES)
    agency = role.split(".", 1)[0]
    return {"id": f"t-{case_id}-{rnd.getrandbits(32)}", "case_id": case_id, "process_key": "svc_a",
            "element_id": "step", "name": "Langkah", "role": role, "agency": agency, "created_at": AT,
            "bound_org": rnd.choice(FIRMS) if agency == "konsultan" and rnd.random() < 0.7 else None,
            "assignee_id": rnd.choice([None, None, users["petugas"], users["lain"]]),
            "escalated_to": f"{agency}.supervisor" if agency != "applicant" and rnd.random() < 0.3 else None}


def _world(ctx: AppContext, cases_n: int = 160, seed: int = 5) -> dict[str, Actor]:
    """Write a mixed world of cases, open tasks, past tasks and events; return an actor of each kind."""
    rnd = random.Random(seed)
    with transaction(ctx.sessions) as session:
        officers = ("petugas", "lain", "firma", "kepala", "loket", "pengisi", "pelaku", "mandor", "kosong")
        kinds = dict.fromkeys(officers, "officer") | {"warga": "applicant", "admin": "admin", "analis": "analyst"}
        users = {name: directory.create_user(session, username=name, platform_role=kind).id
                 for name, kind in kinds.items()}
        version_id = _version(session)
        filers, applicants = [None, users["pengisi"], users["loket"]], [None, users["warga"], users["lain"]]
        session.execute(insert(Case), [_case_row(i, version_id, filed_by_id=rnd.choice(filers),
                                                 applicant_id=rnd.choice(applicants),
                                                 status=rnd.choice(["running", "completed"]))
                                       for i in range(1, cases_n + 1)])
        tasks = [_task(rnd, i, users) for i in range(1, cases_n + 1) for _ in range(rnd.choice([0, 1, 1, 2]))]
        session.execute(insert(OpenTask), tasks)
        session.execute(insert(TaskSpan), [
            {"task_id": f"s-{i}", "case_id": i, "process_key": "svc_a", "element_id": "s", "name": "S",
             "role": "x.y", "agency": rnd.choice(SPAN_AGENCIES), "created_at": AT, "closed_at": AT}
            for i in range(1, cases_n + 1) if rnd.random() < 0.3])
        session.execute(insert(CaseEvent), [
            {"case_id": i, "at": AT, "actor": rnd.choice(["pelaku", "petugas", "system"]), "action": "completed"}
            for i in range(1, cases_n + 1) for _ in range(rnd.choice([0, 1, 3]))])

    def officer(name: str, *memberships: tuple[str, str]) -> Actor:
        return Actor(users[name], name, "officer", frozenset(memberships))

    return {"role": officer("petugas", ("dinas.petugas", AGENCY)),
            "assigned elsewhere": officer("lain", ("lain.petugas", "lain")),
            "bound firm": officer("firma", ("konsultan.petugas", "firm_a")),
            "supervisor": officer("kepala", ("dinas.supervisor", AGENCY), ("lain.supervisor", "lain")),
            # A firm's supervisor oversees no agency: only the firm's tasks escalated to the role.
            "firm supervisor": officer("mandor", ("konsultan.supervisor", "firm_a")),
            "front office": officer("loket", ("dinas.front_office", AGENCY)),
            "filer": officer("pengisi"), "acted": officer("pelaku"), "nothing": officer("kosong"),
            "applicant": Actor(users["warga"], "warga", "applicant"),
            "admin": Actor(users["admin"], "admin", "admin"), "analyst": Actor(users["analis"], "analis", "analyst")}


def _expected(ctx: AppContext, actor: Actor, *conditions: Any) -> list[int]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Case.id).where(reference_visible(actor), *conditions)
                                    .order_by(Case.id.desc())))


def test_the_list_shows_exactly_the_reference_cases_newest_first(ctx: AppContext) -> None:
    actors = _world(ctx)
    seen_some = 0
    for kind, actor in actors.items():
        expected = _expected(ctx, actor)
        with ctx.sessions() as session:
            rows, total = cases.list_cases(session, actor=actor, limit=200)
            assert [r.id for r in rows] == expected, kind
            assert total == len(expected), kind
            running, _ = cases.list_cases(session, actor=actor, status="running", process_key="svc_b", limit=200)
        assert [r.id for r in running] == _expected(ctx, actor, Case.status == "running",
                                                    Case.process_key == "svc_b"), kind
        seen_some += bool(expected)
    assert seen_some >= 8  # every kind but the empty officer, the analyst (and by chance none other) sees cases
    assert _expected(ctx, actors["nothing"]) == []
    assert _expected(ctx, actors["analyst"]) == []


def test_may_view_case_agrees_with_the_reference_for_every_case(ctx: AppContext) -> None:
    actors = _world(ctx, cases_n=60)
    for kind, actor in actors.items():
        expected = set(_expected(ctx, actor))
        with ctx.sessions() as session:
            allowed = {i for i in range(1, 62) if access.may_view_case(session, actor, i)}
        assert allowed == expected, kind


@pytest.mark.parametrize("size", [1, 7, 50])
def test_paging_walks_every_visible_case_once(ctx: AppContext, size: int) -> None:
    actors = _world(ctx)
    for kind in ("role", "supervisor", "front office", "acted"):
        walked: list[int] = []
        with ctx.sessions() as session:
            while True:
                rows, _total = cases.list_cases(session, actor=actors[kind], limit=size, offset=len(walked))
                walked += [r.id for r in rows]
                if len(rows) < size:
                    break
        assert walked == _expected(ctx, actors[kind]), kind


def test_search_finds_by_name_and_number_only_among_readable_cases(ctx: AppContext) -> None:
    actors = _world(ctx)
    for kind in ("role", "bound firm", "firm supervisor", "supervisor", "front office", "filer", "nothing"):
        actor = actors[kind]
        visible = set(_expected(ctx, actor))
        with ctx.sessions() as session:
            hits, total = search.search_cases(session, actor=actor, text="warga 1", limit=200)
            # Typed with the prefix (a name could match too: the walk) and as digits only (checked case by case).
            by_number = {i: [h.id for h in search.search_cases(session, actor=actor, text=f"MPP-0000-{i:04d}")[0]]
                         for i in (3, 40, 77, 120)}
            by_digits = {i: [h.id for h in search.search_cases(session, actor=actor, text=f"0000 {i:04d}")[0]]
                         for i in (3, 40, 77, 120)}
        named = _expected(ctx, actor, Case.id.in_([i for i in range(1, 161) if str(i).startswith("1")]))
        assert [h.id for h in hits] == named, kind
        assert total == len(named)
        assert by_number == by_digits == {i: [i] if i in visible else [] for i in by_number}, kind


def test_the_drilldown_filters_keep_the_officer_to_readable_cases(ctx: AppContext) -> None:
    actors = _world(ctx)
    filters = search.CaseFilters(agency="dinas", task="terbuka")
    for kind in ("role", "acted", "front office"):
        actor = actors[kind]
        with ctx.sessions() as session:
            hits, total = search.search_cases(session, actor=actor, text="", filters=filters, limit=200)
            with_open = select(OpenTask.case_id).where(OpenTask.agency == "dinas", OpenTask.role != "applicant")
        assert [h.id for h in hits] == _expected(ctx, actor, Case.id.in_(with_open)), kind
        assert total == len(hits)


def test_the_total_is_counted_up_to_the_cap(ctx: AppContext) -> None:
    n = listing.TOTAL_CAP + 200
    with transaction(ctx.sessions) as session:
        officer = directory.create_user(session, username="loket", platform_role="officer")
        other = directory.create_user(session, username="lain", platform_role="officer")
        version_id = _version(session)
        session.execute(insert(Case), [_case_row(i, version_id, filed_by_id=officer.id if i % 10 else other.id,
                                                 status="running" if i % 4 == 0 else "completed")
                                       for i in range(1, n + 1)])
    actor = Actor(officer.id, "loket", "officer")
    mine = [i for i in range(n, 0, -1) if i % 10]
    with ctx.sessions() as session:
        rows, total = cases.list_cases(session, actor=actor, limit=50)
        assert [r.id for r in rows] == mine[:50]
        assert total == listing.TOTAL_CAP + 1  # more than the cap
        middle, total_middle = cases.list_cases(session, actor=actor, limit=50, offset=950)
        assert [r.id for r in middle] == mine[950:1000]
        assert total_middle == listing.TOTAL_CAP + 1
        last, total_last = cases.list_cases(session, actor=actor, limit=50, offset=1050)
        assert [r.id for r in last] == mine[1050:]
        assert total_last == listing.TOTAL_CAP + 1  # a short last page: the end, found beyond the cap
        running, total_running = cases.list_cases(session, actor=actor, status="running", limit=500)
        assert [r.id for r in running] == [i for i in mine if i % 4 == 0]
        assert total_running == len(running)
        _, admin_total = cases.list_cases(session, actor=Actor(None, "cli", "admin"), limit=1)
        assert admin_total == listing.TOTAL_CAP + 1


def test_the_candidate_walk_merges_sources_newest_first_without_repeats(ctx: AppContext) -> None:
    actors = _world(ctx)
    sources = access.case_sources(actors["supervisor"])
    assert sources is not None
    expected = _expected(ctx, actors["supervisor"])
    with ctx.sessions() as session:
        walked, before = [], None
        while chunk := listing.candidates(session, sources, before=before, size=9):
            walked += chunk
            before = chunk[-1]
    assert walked == expected
    assert access.case_sources(actors["admin"]) is None


def test_an_officer_applicant_reads_their_own_case_with_an_applicant_task(ctx: AppContext) -> None:
    actors = _world(ctx)
    officer = actors["assigned elsewhere"]  # also the applicant of some cases
    own = aliased(Case)
    with ctx.sessions() as session:
        theirs = list(session.scalars(select(own.id).where(own.applicant_id == officer.user_id).join(
            OpenTask, and_(OpenTask.case_id == own.id, OpenTask.role == "applicant"))))
        listed = {r.id for r in cases.list_cases(session, actor=officer, limit=200)[0]}
    assert theirs
    assert set(theirs) <= listed


def test_a_name_shaped_like_a_tracking_number_is_still_searched_as_a_name(ctx: AppContext) -> None:
    with transaction(ctx.sessions) as session:
        filer = directory.create_user(session, username="loket", platform_role="officer")
        version_id = _version(session)
        session.execute(insert(Case), [
            _case_row(1, version_id, filed_by_id=filer.id, data={"nama_pemohon": "Abdullah Salim"}),
            _case_row(2, version_id, filed_by_id=filer.id, data={"nama_pemohon": "MPP-0000-0001"})])
    actor = Actor(filer.id, "loket", "officer")
    assert not search.selective("Abdullah")
    assert search.selective("MPP-0000-0001")
    assert search.selective("3471 0000")
    with ctx.sessions() as session:
        assert [h.id for h in search.search_cases(session, actor=actor, text="abdullah")[0]] == [1]
        # Eight characters with a digit are a tracking number, never a name: found by its number only.
        assert [h.id for h in search.search_cases(session, actor=actor, text="MPP-0000-0001")[0]] == [1]
