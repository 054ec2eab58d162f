"""The NIK check against the Dukcapil simulator over real HTTP: match, mismatch, unavailable; never the data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.connectors import bindings, identity
from engine.connectors.identity import IdentityInputInvalid, Outcome
from engine.context import AppContext
from engine.db import transaction
from tests.simulators.dukcapil import Registry

SECRET = "dukcapil-token-5c1d"
NIK, NAME = "3471010101900001", "Budi Santoso"


@pytest.fixture
def registry() -> Iterator[Registry]:
    with Registry() as running:
        yield running


def bind(ctx: AppContext, url: str, *, secret: str | None = SECRET) -> None:
    with transaction(ctx.sessions) as session:
        change = bindings.BindingChange(base_url=url, auth_kind="bearer" if secret else "none", secret=secret)
        bindings.set_binding(session, system="dukcapil", change=change, actor="admin",
                             key=ctx.settings.secret_key.get_secret_value())


def check(ctx: AppContext, nik: str = NIK, name: str = NAME) -> identity.Verdict:
    with ctx.sessions() as session:
        return identity.verify_nik(session, settings=ctx.settings, nik=nik, name=name)


def test_a_registered_nik_and_name_match_and_the_bearer_secret_is_sent(ctx: AppContext, registry: Registry) -> None:
    bind(ctx, registry.url)
    found = check(ctx, name="  budi   SANTOSO ")
    assert found.outcome is Outcome.MATCH
    assert "cocok" in found.text("id").lower()
    assert "matches" in found.text("en")
    [sent] = registry.received
    assert sent["path"] == "/nik/verifikasi"
    assert sent["body"] == {"nik": NIK, "nama": "budi SANTOSO"}
    assert sent["headers"]["Authorization"] == f"Bearer {SECRET}"


def test_another_name_or_an_unknown_nik_is_a_mismatch(ctx: AppContext, registry: Registry) -> None:
    bind(ctx, registry.url)
    assert check(ctx, name="Siti Rahayu").outcome is Outcome.MISMATCH
    assert check(ctx, nik="3471999999999999").outcome is Outcome.MISMATCH
    assert "tidak cocok" in check(ctx, name="X").text("id")


@pytest.mark.parametrize(("nik", "name", "field"), [("347101010190000", NAME, "nik"), ("34710101019000AB", NAME, "nik"),
                                                    ("34710101019000011", NAME, "nik"), (NIK, "  ", "nama")])
def test_a_bad_nik_or_no_name_is_refused_before_any_call(ctx: AppContext, registry: Registry, nik: str, name: str,
                                                         field: str) -> None:
    bind(ctx, registry.url)
    with pytest.raises(IdentityInputInvalid) as refused:
        check(ctx, nik=nik, name=name)
    assert refused.value.field == field
    assert registry.received == []


def test_an_unbound_registry_is_unavailable_not_an_error(ctx: AppContext) -> None:
    found = check(ctx)
    assert found.outcome is Outcome.UNAVAILABLE
    assert "tidak dapat diperiksa" in found.text("id")
    assert "cannot be checked" in found.text("en")


def test_a_slow_registry_is_unavailable_after_the_timeout(ctx: AppContext, registry: Registry,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity, "TIMEOUT_S", 0.3)  # the same path as 3 s, sooner
    bind(ctx, registry.url)
    registry.slow(1.5)
    assert check(ctx).outcome is Outcome.UNAVAILABLE
    assert len(registry.received) == 1


def test_a_failing_registry_is_unavailable(ctx: AppContext, registry: Registry) -> None:
    bind(ctx, registry.url, secret=None)
    registry.fail()
    assert check(ctx).outcome is Outcome.UNAVAILABLE
    assert "Authorization" not in registry.received[0]["headers"]


def test_an_unreachable_registry_is_unavailable(ctx: AppContext) -> None:
    with Registry() as gone:
        url = gone.url
    bind(ctx, url)
    assert check(ctx).outcome is Outcome.UNAVAILABLE
