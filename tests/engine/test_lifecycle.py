"""Retiring and restoring a service: no new applications, running cases finish, every change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.cases.bundles import start_bundle
from engine.catalogue import lifecycle as lifecycle
from engine.catalogue import stewards as stewards
from engine.catalogue.package import from_zip
from engine.context import AppContext
from engine.db import transaction
from engine.directory import service as directory
from engine.directory.actors import Actor
from engine.errors import NotAllowed, ProcessNotFound
from engine.models import AuditEntry
from tests.conftest import FakeClock
from tests.factories import Driver, deploy, make_user
from tests.packages import simple_package

START = {"harga": 2, "jumlah": 3}


def _analyst(ctx: AppContext, username: str, agency: str) -> Actor:
    """Create an analyst of `agency` (holding `<agency>.analis`)."""
    with transaction(ctx.sessions) as session:
        stewards.ensure_analyst_role(session, agency)
    return make_user(ctx, username, stewards.analyst_role(agency), platform_role="analyst")


def _retire(ctx: AppContext, actor: Actor, key: str = "pensiun", reason: str = "diganti layanan baru") -> None:
    with transaction(ctx.sessions) as session:
        lifecycle.retire(session, key=key, actor=actor, reason=reason)


def _restore(ctx: AppContext, actor: Actor, key: str = "pensiun", reason: str = "") -> bool:
    with transaction(ctx.sessions) as session:
        return lifecycle.restore(session, key=key, actor=actor, reason=reason)


def _audit(ctx: AppContext, key: str) -> list[tuple[str, str, dict[str, object] | None]]:
    with ctx.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.subject == key).order_by(AuditEntry.id))
        return [(row.action, row.actor, row.detail) for row in rows]


def test_a_retired_service_refuses_new_cases_while_a_running_one_finishes(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, simple_package("pensiun", shape="wait"))  # a user task, then a three-day timer
    officer = make_user(ctx, "petugas", "dinas.petugas")
    admin = make_user(ctx, "admin1", platform_role="admin")
    d = Driver(ctx)
    running = d.start("pensiun", START, officer)
    waiting = d.start("pensiun", START, officer)
    d.complete(waiting.id, "Task_periksa", officer, {"catatan": "ok"})  # now waits on its timer

    _retire(ctx, admin)

    with pytest.raises(lifecycle.ServiceRetired) as refused:
        d.start("pensiun", START, officer)
    assert refused.value.text("id").startswith("Layanan ini (pensiun) sudah tidak menerima permohonan;")
    assert "no longer accepts applications" in refused.value.text("en")
    # The case started before the retirement goes on to its end: its task, then its timer.
    assert d.complete(running.id, "Task_periksa", officer, {"catatan": "selesai"}) == "running"
    clock.advance(days=5)
    d.run_jobs()
    assert (d.case(running.id).status, d.case(waiting.id).status) == ("completed", "completed")


def test_restore_accepts_applications_again_and_both_changes_are_audited(ctx: AppContext) -> None:
    deploy(ctx, simple_package("pensiun"))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    analyst = _analyst(ctx, "analis_dinas", "dinas")
    _retire(ctx, analyst, reason="uji coba selesai")
    with ctx.sessions() as session:
        found = lifecycle.retirement(session, "pensiun")
        assert found is not None
        assert (found.retired_by, found.reason) == ("analis_dinas", "uji coba selesai")
        assert lifecycle.retired_keys(session) == {"pensiun"}
    _retire(ctx, analyst, reason="lagi")  # retiring twice changes nothing and records nothing

    assert _restore(ctx, analyst, reason="dibuka kembali") is True
    assert _restore(ctx, analyst) is False  # not retired any more: nothing to restore
    assert Driver(ctx).start("pensiun", START, officer).status == "running"
    entries = _audit(ctx, "pensiun")
    assert [(action, actor) for action, actor, _ in entries] == [("process.retired", "analis_dinas"),
                                                                 ("process.restored", "analis_dinas")]
    assert entries[0][2] == {"reason": "uji coba selesai"}
    restored = entries[1][2]
    assert restored is not None
    assert (restored["reason"], restored["retired_reason"]) == ("dibuka kembali", "uji coba selesai")
    with ctx.sessions() as session:
        assert not lifecycle.is_retired(session, "pensiun")


def test_an_integrated_application_with_a_retired_service_starts_nothing(ctx: AppContext) -> None:
    deploy(ctx, simple_package("pensiun"))
    deploy(ctx, simple_package("aktif"))
    applicant = make_user(ctx, "warga")
    _retire(ctx, make_user(ctx, "admin1", platform_role="admin"))
    with pytest.raises(lifecycle.ServiceRetired), transaction(ctx.sessions) as session:
        start_bundle(session, rt=ctx.rt, services=[("aktif", START), ("pensiun", START)], channel="tatap_muka",
                     actor=applicant, applicant_id=applicant.user_id, notice_accepted=True)
    assert Driver(ctx).inbox(make_user(ctx, "petugas", "dinas.petugas")) == []


def test_only_analysts_of_the_owning_agency_or_admins_retire_or_restore(ctx: AppContext) -> None:
    deploy(ctx, simple_package("pensiun"))
    with transaction(ctx.sessions) as session:  # another agency, with its own analyst
        directory.ensure_agency(session, code="dinas_lain", name_id="Dinas Lain", kind="city_office")
    outsider = _analyst(ctx, "analis_lain", "dinas_lain")
    officer = make_user(ctx, "petugas", "dinas.petugas")
    for actor in (outsider, officer):
        with pytest.raises(NotAllowed):
            _retire(ctx, actor)
    with ctx.sessions() as session:
        assert not lifecycle.is_retired(session, "pensiun")
    _retire(ctx, make_user(ctx, "admin1", platform_role="admin"))
    with pytest.raises(NotAllowed):
        _restore(ctx, outsider)
    assert [action for action, _, _ in _audit(ctx, "pensiun")] == ["process.retired"]
    with pytest.raises(ProcessNotFound):
        _retire(ctx, outsider, key="tidak_ada")


def test_a_version_zip_reads_back_as_the_same_package(ctx: AppContext) -> None:
    original = simple_package("pensiun")
    deploy(ctx, original)
    with ctx.sessions() as session:
        data = lifecycle.version_zip(session, key="pensiun", version=1)
        with pytest.raises(ProcessNotFound):
            lifecycle.version_zip(session, key="pensiun", version=2)
    again = from_zip(data)
    assert again.files == original.files
    assert again.content_hash == original.content_hash
    assert deploy(ctx, again).created is False
