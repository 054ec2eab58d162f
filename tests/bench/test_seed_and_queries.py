"""The benchmark's seeding path and query set, at a tiny size, so bench/ cannot rot unnoticed.

Checks row counts and that the engine's own query functions find the seeded rows; no timings.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from bench import queries, seed
from engine.cases import service as cases
from engine.cases import tasks as tasks
from engine.cases import tracking as tracking
from engine.context import AppContext
from engine.directory.actors import actor_for
from engine.models import Case, CaseEvent, OpenTask, User

CASES, OPEN = 2_000, 200


@pytest.fixture
def seeded(ctx: AppContext) -> seed.Catalogue:
    catalogue = seed.prepare(ctx)
    seed.seed(ctx, catalogue, cases=CASES // 10, open_tasks=OPEN // 10, progress=False)
    seed.seed(ctx, catalogue, cases=CASES - CASES // 10, open_tasks=OPEN - OPEN // 10, progress=False)
    return catalogue


def test_seeding_writes_the_asked_counts_across_the_catalogue(ctx: AppContext, seeded: seed.Catalogue) -> None:
    counts = seed.counts(ctx)
    assert counts["cases"] == CASES
    assert counts["open_tasks"] == OPEN
    assert counts["events"] >= 2 * CASES  # at least "started" and one more per case
    with ctx.sessions() as session:
        statuses = Counter(dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all()))
        assert statuses["running"] == OPEN
        assert statuses["completed"] + statuses["cancelled"] == CASES - OPEN
        assert len(set(session.scalars(select(Case.process_key)))) == len(seeded.services)
        # Every running case waits on exactly one task, routed to a role of its own service.
        roles = {s.key: {step.role for step in s.steps} for s in seeded.services}
        for key, role, case_status in session.execute(
                select(OpenTask.process_key, OpenTask.role, Case.status).join(Case, Case.id == OpenTask.case_id)):
            assert role in roles[key]
            assert case_status == "running"


def test_seeded_rows_are_found_by_the_engines_queries(ctx: AppContext, seeded: seed.Catalogue) -> None:
    secret = ctx.settings.secret_key.get_secret_value()
    with ctx.sessions() as session:
        case_id = int(session.scalar(select(Case.id).where(Case.status == "running").limit(1)) or 0)
        found = tracking.public_status(session, number=seed.tracking_number(case_id), pin=seed.pin(case_id),
                                       secret=secret)
        assert found is not None
        assert found.status == "running"
        assert found.timeline[0].event == "started"
        wrong = f"{(int(seed.pin(case_id)) + 1) % 10**6:06d}"
        assert tracking.public_status(session, number=seed.tracking_number(case_id), pin=wrong, secret=secret) is None
        events = cases.history(session, case_id)
        assert len(events) == session.scalar(select(func.count()).where(CaseEvent.case_id == case_id))
        # An officer's inbox holds exactly the unbound, unclaimed-or-theirs tasks of their role.
        task = session.scalars(select(OpenTask).where(OpenTask.bound_org.is_(None))).first()
        assert task is not None
        user = session.scalar(select(User).where(User.username == task.role.replace(".", "_")))
        assert user is not None
        officer = actor_for(session, user)
        rows, total = tasks.list_tasks(session, actor=officer, limit=50)
        expected = session.scalar(select(func.count()).select_from(OpenTask).where(
            OpenTask.role == task.role, OpenTask.bound_org.is_(None),
            (OpenTask.assignee_id.is_(None)) | (OpenTask.assignee_id == user.id)))
        assert total == expected
        assert task.id in {t.id for t in tasks.list_tasks(session, actor=officer, limit=expected or 1)[0]}
        assert len(rows) == min(50, total)


def test_every_benchmark_query_runs_and_reads_seeded_rows(ctx: AppContext, seeded: seed.Catalogue) -> None:
    result = queries.run(ctx, seeded, samples=5)
    assert set(result) == {"inbox_page", "inbox_counts", "case_history", "tracking", "case_search_officer",
                           "case_search_number", "case_search_admin", "web_inbox_officer", "web_inbox_supervisor",
                           "web_supervision"}
    for name in ("inbox_page", "inbox_counts", "case_history", "tracking", "case_search_officer", "web_inbox_officer",
                 "web_inbox_supervisor", "web_supervision"):
        assert result[name]["rows_min"] > 0, name
    assert result["case_search_number"]["rows_min"] == result["case_search_number"]["rows_max"] == 1
    assert all(result[name]["n"] == 5 for name in result)
