"""Linking a form's files to its case: a row the session holds reads the new case; refused files stay unlinked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from engine.context import AppContext
from engine.db import transaction
from engine.documents import filestore as filestore
from engine.models import StoredFile
from tests.engine.test_inbox_keyset import actors, seed

NOW = datetime(2026, 3, 10, tzinfo=UTC)


def _upload(ctx: AppContext, user_id: int | None, n: int) -> list[int]:
    with transaction(ctx.sessions) as session:
        return [int(session.scalar(insert(StoredFile).values(
            sha256="0" * 64, filename=f"f{k}.pdf", content_type="application/pdf", size=1, uploaded_by=user_id,
            created_at=NOW).returning(StoredFile.id)) or 0) for k in range(n)]


def test_a_linked_file_the_session_holds_reads_its_new_case(ctx: AppContext) -> None:
    cast = actors(seed(ctx, tasks_n=4, cases_n=4))
    mine = _upload(ctx, cast["warga"].user_id, 3)
    with transaction(ctx.sessions) as session:
        held = session.get(StoredFile, mine[0])
        assert held is not None
        assert held.case_id is None
        linked = filestore.link_case_files(session, case_id=1, actor=cast["warga"],
                                           data={"a": [filestore.ref(mine[0])], "b": {"c": filestore.ref(mine[2])}})
        assert linked == [mine[0], mine[2]]
        assert held.case_id == 1  # the same object, read afresh
    with ctx.sessions() as session:
        cases = dict(session.execute(select(StoredFile.id, StoredFile.case_id).where(StoredFile.id.in_(mine))).all())
    assert cases == {mine[0]: 1, mine[1]: None, mine[2]: 1}


def test_another_users_or_another_cases_file_is_refused_and_nothing_links(ctx: AppContext) -> None:
    cast = actors(seed(ctx, tasks_n=4, cases_n=4))
    mine, theirs = _upload(ctx, cast["warga"].user_id, 1), _upload(ctx, cast["other"].user_id, 1)
    with transaction(ctx.sessions) as session:
        filestore.link_case_files(session, case_id=2, data={"x": filestore.ref(mine[0])}, actor=cast["warga"])
    for data in ({"x": [filestore.ref(mine[0])]}, {"x": [filestore.ref(theirs[0])]}):
        with transaction(ctx.sessions) as session, pytest.raises(filestore.FileRejected):
            filestore.link_case_files(session, case_id=1, data=data, actor=cast["warga"])
    with ctx.sessions() as session:
        cases = dict(session.execute(select(StoredFile.id, StoredFile.case_id)).all())
    assert cases == {mine[0]: 2, theirs[0]: None}
    with transaction(ctx.sessions) as session:  # linking again to its own case is allowed and changes nothing
        assert filestore.link_case_files(session, case_id=2, data={"x": filestore.ref(mine[0])},
                                         actor=cast["warga"]) == mine
