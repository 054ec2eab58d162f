"""A case taken from the hot cache starts its step with what the last step left open: the same open tasks,
timers and awaited messages a load from its stored rows finds."""

from __future__ import annotations

from typing import Any

import pytest

from engine.context import AppContext
from engine.db import transaction
from engine.runtime import LoadedCase
from tests.documents import pbg_cast
from tests.factories import APPROVED, DRAWINGS, PAID, SIGNED, SKRD, SPPST, Driver, pbg_application

pytestmark = pytest.mark.postgres

PATH = [("Task_kelengkapan", "front", {"kelengkapan": "lengkap"}), ("Task_gambar_teknis", "consultant", DRAWINGS),
        ("Task_tpa", "tpa", APPROVED), ("Task_sppst", "teknis", SPPST), ("Task_skrd", "back", SKRD),
        ("Task_pembayaran", "applicant", PAID), ("Task_verifikasi", "kasir", {"pembayaran_valid": True}),
        ("Task_tanda_tangan", "kepala", SIGNED)]


def _open(loaded: LoadedCase) -> tuple[set[str], dict[str, Any], set[str]]:
    return loaded.open_before, {tid: t.due_at for tid, t in loaded.timers_before.items()}, loaded.waiting_before


def _looked_again(ctx: AppContext, loaded: LoadedCase) -> tuple[set[str], dict[str, Any], set[str]]:
    workflow = loaded.workflow
    return ({t.task_id for t in ctx.rt.ready_tasks(loaded)}, {t.task_id: t.due_at for t in workflow.timers()},
            {w.name for w in workflow.waits()})


def test_what_a_step_left_open_is_what_a_load_from_the_rows_finds(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    carried = 0
    for element, who, data in PATH:
        version = d.case(case.id).version
        hot = ctx.rt.cases.take(case.id, version)
        assert hot is not None, f"no hot workflow before {element}"
        carried += hot.seen is not None
        ctx.rt.cases.put(case.id, hot)
        with transaction(ctx.sessions) as session:
            from_cache = ctx.rt.load_case(session, case.id)
            assert _open(from_cache) == _looked_again(ctx, from_cache), element
            ctx.rt.cases.put_back(case.id, from_cache)
        ctx.rt.cases.clear()
        with transaction(ctx.sessions) as session:
            from_rows = ctx.rt.load_case(session, case.id)
            assert _open(from_rows) == _open(from_cache), element
            ctx.rt.cases.put_back(case.id, from_rows)
        d.complete(case.id, element, getattr(cast, who), data)
    assert carried == len(PATH)  # every step left its sets with the workflow (the asserts above check them)
