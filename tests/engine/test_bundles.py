"""Integrated one-stop applications: several services, one tracking number, messages between them."""

from __future__ import annotations

from typing import Any

import pytest

from engine.cases.bundles import start_bundle
from engine.cases.tracking import public_status
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.errors import InvalidInput
from forms.validation import FormInvalid
from tests.factories import Driver, deploy, make_user
from tests.packages import message_package


def _bundle(ctx: AppContext, actor: object, services: list[tuple[str, dict[str, int]]]) -> object:
    with transaction(ctx.sessions) as session:
        return start_bundle(session, rt=ctx.rt, services=services, channel="terpadu", actor=actor,  # type: ignore[arg-type]
                            applicant_id=getattr(actor, "user_id", None), notice_accepted=True)


def _permits(ctx: AppContext, receiver: str) -> tuple[Actor, Any, Any, Any]:
    """Deploy a location permit (thrower) and a business permit (`receiver`), apply for both at once."""
    deploy(ctx, message_package("izin_lokasi", role="thrower"))
    deploy(ctx, message_package("izin_usaha", role=receiver))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    bundle = _bundle(ctx, make_user(ctx, "warga"), [("izin_lokasi", {"harga": 1, "jumlah": 1}),
                                                    ("izin_usaha", {"harga": 2, "jumlah": 1})])
    first, second = bundle.cases  # type: ignore[attr-defined]
    return officer, bundle, first, second


def test_one_application_starts_a_case_per_service_and_tracks_them_together(ctx: AppContext) -> None:
    officer, bundle, first, second = _permits(ctx, "waiter")
    d = Driver(ctx)
    assert [t.element_id for t in d.open_tasks(first.id)] == ["Task_periksa"]
    assert d.open_tasks(second.id) == []  # waits for the location permit
    secret = ctx.settings.secret_key.get_secret_value()
    with ctx.sessions() as session:
        status = public_status(session, number=bundle.tracking_number, pin=bundle.pin, secret=secret)  # type: ignore[attr-defined]
    assert status is not None
    assert (status.status, [p.status for p in status.parts]) == ("running", ["running", "running"])
    assert status.stage_id == "0 dari 2 layanan selesai"

    d.complete(first.id, "Task_periksa", officer, {"catatan": "77"})
    assert d.case(first.id).status == "completed"
    d.run_jobs()  # the thrown message reaches the waiting case of the same application
    assert d.case(second.id).data["izin_lokasi"] == {"nomor_izin": "IL-77"}
    d.complete(second.id, "Task_periksa", officer, {"catatan": "ok"})
    with ctx.sessions() as session:
        status = public_status(session, number=bundle.tracking_number, pin=bundle.pin, secret=secret)  # type: ignore[attr-defined]
    assert status is not None
    assert status.status == "completed"
    assert any(line.label_id.startswith("Layanan uji izin_lokasi: ") for line in status.timeline)


def test_a_bad_form_in_one_service_starts_none_of_them(ctx: AppContext) -> None:
    deploy(ctx, message_package("izin_lokasi", role="thrower"))
    deploy(ctx, message_package("izin_usaha", role="waiter"))
    applicant = make_user(ctx, "warga")
    with pytest.raises(FormInvalid) as info:
        _bundle(ctx, applicant, [("izin_lokasi", {"harga": 1, "jumlah": 1}), ("izin_usaha", {"harga": -1})])
    assert set(info.value.errors) == {"services.1.data.harga", "services.1.data.jumlah"}
    with pytest.raises(InvalidInput):
        _bundle(ctx, applicant, [("izin_lokasi", {"harga": 1, "jumlah": 1})])
    with ctx.sessions() as session:
        from engine.models import Bundle, Case

        assert (session.query(Case).count(), session.query(Bundle).count()) == (0, 0)


def test_a_message_thrown_before_its_receiver_waits_is_kept_for_it(ctx: AppContext) -> None:
    officer, _bundle_started, first, second = _permits(ctx, "late_waiter")
    d = Driver(ctx)
    d.complete(first.id, "Task_periksa", officer, {"catatan": "12"})
    d.run_jobs()  # the receiver is still busy with its own first task: the message is parked
    assert d.open_ids(second.id) == ["Task_siapkan"]
    d.complete(second.id, "Task_siapkan", officer, {"catatan": "siap"})  # now it waits
    d.run_jobs()
    assert d.case(second.id).data["izin_lokasi"] == {"nomor_izin": "IL-12"}
    assert d.open_ids(second.id) == ["Task_periksa"]
