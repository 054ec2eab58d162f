"""The case row's sealed values: a step that leaves a sensitive value as it was writes the same ciphertext again;
a changed value, or another keyring, is sealed afresh; every stored form opens to the value the case holds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from engine.cases.steps import StepRecord, record_step
from engine.context import AppContext
from engine.db import transaction
from engine.privacy import cipher as cipher
from engine.privacy import keys as keys
from tests.documents import pbg_cast
from tests.factories import DRAWINGS, Driver, pbg_application

pytestmark = pytest.mark.postgres
NEW_NIK = "3273010101900002"


def _stored_nik(ctx: AppContext, case_id: int) -> str:
    """Return the NIK as the case row holds it, sealed (read past the column type that opens it)."""
    with ctx.sessions() as session:
        raw: Any = session.execute(text("SELECT data FROM case_record WHERE id = :id"), {"id": case_id}).scalar()
    data = raw if isinstance(raw, dict) else json.loads(raw)
    stored = data["nik"]
    assert cipher.is_sealed(stored)
    return str(stored)


def _opened(token: str) -> Any:
    return json.loads(cipher.open_text("nik", token))


def test_an_unchanged_nik_keeps_its_ciphertext_and_a_changed_one_is_sealed_anew(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    first = _stored_nik(ctx, case.id)
    assert _opened(first) == pbg_application()["nik"]
    d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"})
    assert _stored_nik(ctx, case.id) == first  # nothing new encrypted for an unchanged value
    with transaction(ctx.sessions) as session:  # a correction: the NIK changes in the workflow's open task
        loaded = ctx.rt.load_case(session, case.id)
        before = loaded.workflow.data()
        assert loaded.workflow.store("nik", NEW_NIK)
        record_step(session, ctx.rt, loaded, result=ctx.rt.runner.advance(loaded.workflow), before=before,
                    record=StepRecord("petugas", "corrected"))
    changed = _stored_nik(ctx, case.id)
    assert changed != first
    assert _opened(changed) == NEW_NIK


def test_another_keyring_seals_the_unchanged_nik_with_its_own_key(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    first = _stored_nik(ctx, case.id)
    old = keys.current()
    added = keys.Keyring("k9", {"k9": bytes(range(32)), **old.keys}, old.lookup_key)
    keys.install(added)
    try:
        d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"})
        again = _stored_nik(ctx, case.id)
        assert cipher.kid_of(again) == "k9" != cipher.kid_of(first)
        assert _opened(again) == pbg_application()["nik"]
        d.complete(case.id, "Task_gambar_teknis", cast.consultant, DRAWINGS)
        assert _stored_nik(ctx, case.id) == again
    finally:
        keys.install(old)
