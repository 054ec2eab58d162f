"""Bindings per agency and environment: an agency's own binding wins; another environment's is never used."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.connectors import bindings, identity
from engine.connectors.identity import Outcome
from engine.context import AppContext
from engine.db import transaction
from engine.directory import service as directory
from engine.errors import InvalidInput
from engine.models import AuditEntry
from engine.settings import Settings
from tests.engine.test_connectors import START, connector_package
from tests.factories import Driver, deploy, make_user
from tests.simulators.dukcapil import Registry
from tests.simulators.partner import Partner

SECRET = "rahasia-instansi-42"  # noqa: S105 - a test credential


def bind(ctx: AppContext, system: str, url: str, *, agency: str = "", environment: str = "default") -> None:
    with transaction(ctx.sessions) as session:
        bindings.set_binding(session, system=system, change=bindings.BindingChange(url, "bearer", None, SECRET),
                             actor="admin", key=ctx.settings.secret_key.get_secret_value(), agency=agency,
                             environment=environment)


def add_agency(ctx: AppContext, code: str) -> None:
    with transaction(ctx.sessions) as session:
        directory.ensure_agency(session, code=code, name_id=code, kind="city_office")


def in_environment(ctx: AppContext, environment: str) -> Settings:
    return ctx.settings.model_copy(update={"environment": environment})


def resolved_url(ctx: AppContext, *, agency: str, environment: str = "default") -> str | None:
    with ctx.sessions() as session:
        row = bindings.resolve(session, system="bpjs_tk", agency=agency, settings=in_environment(ctx, environment))
        return row.base_url if row is not None else None


def test_an_agencys_own_binding_wins_over_the_every_agency_one(ctx: AppContext) -> None:
    add_agency(ctx, "dinas")
    add_agency(ctx, "dinas_lain")
    bind(ctx, "bpjs_tk", "https://semua.example.id")
    bind(ctx, "bpjs_tk", "https://dinas.example.id", agency="dinas")
    assert resolved_url(ctx, agency="dinas") == "https://dinas.example.id"
    assert resolved_url(ctx, agency="dinas_lain") == "https://semua.example.id"
    assert resolved_url(ctx, agency="") == "https://semua.example.id"
    with transaction(ctx.sessions) as session:
        bindings.delete_binding(session, system="bpjs_tk", actor="admin", agency="dinas")
    assert resolved_url(ctx, agency="dinas") == "https://semua.example.id"
    with ctx.sessions() as session:
        subjects = list(session.scalars(select(AuditEntry.subject).where(AuditEntry.action.like("connector.%"))
                                        .order_by(AuditEntry.id)))
    assert subjects == ["bpjs_tk:*@default", "bpjs_tk:dinas@default", "bpjs_tk:dinas@default"]


def test_another_environments_binding_is_never_used(ctx: AppContext) -> None:
    add_agency(ctx, "dinas")
    bind(ctx, "bpjs_tk", "https://staging.example.id", environment="staging")
    bind(ctx, "bpjs_tk", "https://dinas-staging.example.id", agency="dinas", environment="staging")
    assert resolved_url(ctx, agency="dinas") is None
    assert resolved_url(ctx, agency="") is None
    assert resolved_url(ctx, agency="dinas", environment="staging") == "https://dinas-staging.example.id"
    assert resolved_url(ctx, agency="", environment="staging") == "https://staging.example.id"
    bind(ctx, "bpjs_tk", "https://produksi.example.id", environment="production")
    assert resolved_url(ctx, agency="dinas", environment="production") == "https://produksi.example.id"
    assert resolved_url(ctx, agency="dinas", environment="staging") == "https://dinas-staging.example.id"


def test_an_unknown_agency_or_a_malformed_environment_is_refused(ctx: AppContext) -> None:
    for agency, environment in (("tidak_ada", "default"), ("Dinas", "default"), ("", "Prod Uji"), ("", "")):
        with pytest.raises(InvalidInput), transaction(ctx.sessions) as session:
            bindings.set_binding(session, system="bpjs_tk", change=bindings.BindingChange("https://x.example.id"),
                                 actor="admin", key="k" * 32, agency=agency, environment=environment)
    with ctx.sessions() as session:
        assert bindings.list_bindings(session) == []


def test_the_keyword_lookup_without_agency_and_environment_still_finds_the_default_binding(ctx: AppContext) -> None:
    bind(ctx, "bpjs_tk", "https://semua.example.id")
    with ctx.sessions() as session:
        row = bindings.find(session, system="bpjs_tk")
    assert row is not None
    assert (row.agency, row.environment) == ("", "default")


def test_a_case_belongs_to_the_agency_of_its_services_package(ctx: AppContext) -> None:
    deploy(ctx, connector_package())
    case = Driver(ctx).start("mutasi", START, make_user(ctx, "petugas1", "dinas.petugas"))
    with ctx.sessions() as session:
        assert bindings.case_agency(session, case.id) == "dinas"
        assert bindings.case_agency(session, None) == ""


def test_a_case_calls_the_host_its_agency_bound(ctx: AppContext) -> None:
    deploy(ctx, connector_package())
    with Partner() as every_agency, Partner() as own:
        bind(ctx, "bpjs_tk", every_agency.url)
        bind(ctx, "bpjs_tk", own.url, agency="dinas")
        own.reply(200, {"data": {"nomor": "MUT-DINAS-1"}})
        d = Driver(ctx)
        case = d.start("mutasi", START, make_user(ctx, "petugas1", "dinas.petugas"))
        d.run_jobs()
        assert d.case(case.id).data["hasil"] == {"nomor_mutasi": "MUT-DINAS-1"}
        assert every_agency.received == []
        assert own.received[0].headers["Authorization"] == f"Bearer {SECRET}"


def test_the_nik_check_uses_the_platform_wide_binding_of_its_own_environment(ctx: AppContext) -> None:
    add_agency(ctx, "disdukcapil")
    nik, name = "3471010101900001", "Budi Santoso"
    with Registry() as registry:
        bind(ctx, "dukcapil", registry.url, environment="staging")
        bind(ctx, "dukcapil", registry.url, agency="disdukcapil")  # an agency's binding is not the platform's
        with ctx.sessions() as session:
            here = identity.verify_nik(session, settings=ctx.settings, nik=nik, name=name)
            staging = identity.verify_nik(session, settings=in_environment(ctx, "staging"), nik=nik, name=name)
        assert here.outcome is Outcome.UNAVAILABLE
        assert staging.outcome is Outcome.MATCH
        [sent] = registry.received
        assert sent["headers"]["Authorization"] == f"Bearer {SECRET}"
