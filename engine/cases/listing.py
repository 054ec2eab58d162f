"""Pages of the cases an actor may read, newest first, with a total counted up to a cap.

An officer's cases come from several sources (engine/cases/access.case_sources): the cases they
filed, hold an open task of, acted on, or oversee. Each source is walked newest first from its own
index, a chunk at a time below a case-id cursor; the chunks are merged (UNION) and only then
matched against the list's filters. The work follows the page (and the capped total), not the
officer's history. Admins and applicants have one condition, which the database applies directly.
"""

from __future__ import annotations

from sqlalchemy import ARRAY, ColumnElement, Integer, Select, any_, bindparam, select, union
from sqlalchemy.orm import Session

from engine.cases import access as access
from engine.directory.actors import Actor
from engine.models import Case

# The total is counted up to this many cases; beyond it a list says "more than TOTAL_CAP".
TOTAL_CAP = 1000
# Candidate ids matched against the filters per round trip, at most (doubling from the first chunk;
# SQLite takes up to 32,766 parameters).
MAX_CHUNK = 8192


def visible_page(session: Session, *, actor: Actor, matching: Select[int] | None = None,
                 selective: bool = False, limit: int, offset: int = 0) -> tuple[list[int], int]:
    """Return the ids of a page of the readable cases that `matching` selects, newest first, and the total.

    `matching` selects Case.id under the list's filters (None: every readable case). `selective`
    says it finds few cases (a tracking number, a full NIK): each is then checked on its own rows.
    The total is exact up to TOTAL_CAP; TOTAL_CAP + 1 means "more than TOTAL_CAP".
    """
    want = max(offset + limit, TOTAL_CAP + 1)
    sources = access.case_sources(actor)
    if sources is None or selective:
        base = matching if matching is not None else select(Case.id)
        ids = list(session.scalars(base.where(access.visible_cases(actor)).order_by(Case.id.desc()).limit(want)))
    else:
        ids = _walk(session, sources, matching, want)
    return ids[offset:offset + limit], min(len(ids), TOTAL_CAP + 1)


def _walk(session: Session, sources: list[Select[int]], matching: Select[int] | None, want: int) -> list[int]:
    """Return the first `want` ids, newest first, of the sources' union that `matching` keeps."""
    if matching is None:
        return candidates(session, sources, before=None, size=want)
    found: list[int] = []
    before: int | None = None
    size = want
    while len(found) < want:
        chunk = candidates(session, sources, before=before, size=size)
        if chunk:
            found += session.scalars(matching.where(_one_of(session, chunk)).order_by(Case.id.desc()))
        if len(chunk) < size:
            break
        before, size = chunk[-1], min(2 * size, MAX_CHUNK)
    return found[:want]


def _one_of(session: Session, ids: list[int]) -> ColumnElement[bool]:
    """SQL condition: the case is one of these (given as a list, so the database reads each by its key).

    On PostgreSQL one array parameter: thousands of IN parameters cost more to bind than to run.
    The list, not the sources' union as a subquery: PostgreSQL then misjudges the filter and
    scans every case.
    """
    if session.get_bind().dialect.name == "postgresql":
        return Case.id == any_(bindparam("case_ids", ids, type_=ARRAY(Integer)))
    return Case.id.in_(ids)


def candidates(session: Session, sources: list[Select[int]], *, before: int | None, size: int) -> list[int]:
    """Return the `size` newest distinct case ids below `before` over all sources.

    The union's newest `size` ids are among each source's newest `size`: each source is read
    from its index only that far.
    """
    parts = []
    for source in sources:
        column = source.selected_columns[0]
        walked = source.where(column < before) if before is not None else source
        newest = walked.distinct().order_by(column.desc()).limit(size).subquery()
        parts.append(select(newest.c[0].label("case_id")))
    merged = (union(*parts) if len(parts) > 1 else parts[0]).subquery()
    return list(session.scalars(select(merged.c.case_id).order_by(merged.c.case_id.desc()).limit(size)))
