"""The database rate limiter itself, on SQLite and PostgreSQL: windows, back-off, atomicity, cleanup."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from engine.context import AppContext
from engine.models import RateLimit
from web import ratelimit
from web.ratelimit import (
    LOGIN_PER_CLIENT,
    PIN_PER_CLIENT,
    PIN_PER_NUMBER,
    RateLimited,
    client_key,
    count_login_attempt,
    count_pin_guess,
    login_delay,
    login_succeeded,
    pin_matched,
    purge_expired,
)

pytestmark = pytest.mark.postgres
T0 = 1_800_000_000


def attempt(ctx: AppContext, count: Callable[..., None], **kwargs: Any) -> int:
    """Count one attempt in a session of its own; return 0 when allowed, else the seconds to wait."""
    with ctx.sessions() as session:
        try:
            count(session, **kwargs)
        except RateLimited as refused:
            return refused.retry_after
        session.commit()
    return 0


def guess(ctx: AppContext, at: int, client: str = "192.0.2.1", number: str = "MPP-AAAA-0001") -> int:
    return attempt(ctx, count_pin_guess, client=client, tracking_number=number, now=at)


def login(ctx: AppContext, at: int, username: str = "warga", client: str = "192.0.2.1") -> int:
    return attempt(ctx, count_login_attempt, username=username, client=client, now=at)


def test_a_client_gets_its_window_then_is_told_when_it_ends(ctx: AppContext) -> None:
    waits = [guess(ctx, T0 + i // 10, number=f"MPP-AAAA-{i:04d}") for i in range(PIN_PER_CLIENT.limit + 2)]
    assert waits[:PIN_PER_CLIENT.limit] == [0] * PIN_PER_CLIENT.limit
    assert waits[PIN_PER_CLIENT.limit:] == [58, 58]  # the window opened at T0 and lasts 60 s
    assert guess(ctx, T0 + 59, number="MPP-AAAA-9999") == 1
    assert guess(ctx, T0 + 60, number="MPP-AAAA-9999") == 0  # a new window
    assert guess(ctx, T0 + 60, client="192.0.2.2", number="MPP-AAAA-9998") == 0


def test_a_tracking_number_is_limited_whatever_the_client(ctx: AppContext) -> None:
    waits = [guess(ctx, T0, client=f"198.51.100.{i}") for i in range(PIN_PER_NUMBER.limit + 1)]
    assert waits == [0] * PIN_PER_NUMBER.limit + [PIN_PER_NUMBER.seconds]
    # The number as a person types it is the same number.
    assert guess(ctx, T0 + 1, client="198.51.100.99", number=" mpp aaaa 0001 ") == PIN_PER_NUMBER.seconds - 1
    assert guess(ctx, T0 + 1, client="198.51.100.99", number="MPP-AAAA-0002") == 0


def test_a_right_pin_is_given_back_to_the_number(ctx: AppContext) -> None:
    for i in range(PIN_PER_NUMBER.limit + 5):
        assert guess(ctx, T0, client=f"198.51.100.{i}") == 0
        with ctx.sessions() as session:
            pin_matched(session, tracking_number="MPP-AAAA-0001")
            session.commit()


def test_a_refused_request_stays_counted_although_its_transaction_rolls_back(ctx: AppContext) -> None:
    with ctx.sessions() as session:
        count_pin_guess(session, client="192.0.2.1", tracking_number="MPP-AAAA-0001", now=T0)
        session.rollback()
    with ctx.sessions() as session:
        hits = session.scalar(select(RateLimit.hits).where(RateLimit.key == "pin-number:MPP-AAAA-0001"))
    assert hits == 1


def test_concurrent_guesses_never_get_past_the_limit(ctx: AppContext) -> None:
    allowed: list[int] = []
    lock = threading.Lock()

    def guesser(worker: int) -> None:
        for i in range(6):
            if guess(ctx, T0, number=f"MPP-B{worker:03d}-{i:04d}") == 0:
                with lock:
                    allowed.append(1)

    threads = [threading.Thread(target=guesser, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == PIN_PER_CLIENT.limit


def test_login_delays_double_after_five_failures_up_to_fifteen_minutes() -> None:
    assert [login_delay(n) for n in range(1, 16)] == [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


def test_login_backs_off_the_username_at_one_client_only(ctx: AppContext) -> None:
    assert [login(ctx, T0) for _ in range(5)] == [0] * 5
    assert login(ctx, T0 + 1) == 1  # the 5th failure asked for 2 s
    assert login(ctx, T0 + 2) == 0
    assert login(ctx, T0 + 3) == 3  # the 6th asked for 4 s
    assert login(ctx, T0 + 2, client="198.51.100.1") == 0
    assert login(ctx, T0 + 2, username="analis") == 0
    # Refused attempts are not counted: waiting out the delay is enough.
    assert login(ctx, T0 + 6) == 0
    assert login(ctx, T0 + 7) == 7


def test_login_failures_are_forgotten_after_an_hour_without_attempts(ctx: AppContext) -> None:
    for i in range(5):
        login(ctx, T0 + i)
    assert login(ctx, T0 + 5) == 1
    assert [login(ctx, T0 + 3605 + i) for i in range(5)] == [0] * 5


def test_a_success_clears_the_username_at_that_client_and_gives_back_the_attempt(ctx: AppContext) -> None:
    for _ in range(5):
        login(ctx, T0)
        login(ctx, T0, client="198.51.100.1")
    with ctx.sessions() as session:
        login_succeeded(session, username="Warga", client="192.0.2.1")
        session.commit()
    assert login(ctx, T0) == 0
    assert login(ctx, T0, client="198.51.100.1") == 2  # the other client still waits
    with ctx.sessions() as session:
        hits = session.scalar(select(RateLimit.hits).where(RateLimit.key == f"{LOGIN_PER_CLIENT.prefix}:192.0.2.1"))
    assert hits == 5  # five failures and one new attempt; the success gave its own back


def test_one_client_is_capped_across_usernames(ctx: AppContext) -> None:
    waits = [login(ctx, T0, username=f"user{i}") for i in range(LOGIN_PER_CLIENT.limit + 1)]
    assert waits == [0] * LOGIN_PER_CLIENT.limit + [LOGIN_PER_CLIENT.seconds]
    assert login(ctx, T0, username="user0", client="198.51.100.1") == 0


def test_purge_deletes_only_spent_counters(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    # Counting purges expired rows itself, one time in PURGE_ONE_IN: here only purge_expired may.
    monkeypatch.setattr(ratelimit, "PURGE_ONE_IN", 2**62)
    guess(ctx, T0)
    assert [login(ctx, T0 + 1000 * i) for i in range(14)] == [0] * 14  # the last failure asks for 15 minutes
    with ctx.sessions() as session:
        assert purge_expired(session, now=T0 + 60) == 1  # the PIN client window ended
        session.commit()
    with ctx.sessions() as session:
        keys = set(session.scalars(select(RateLimit.key)))
        assert "pin-number:MPP-AAAA-0001" in keys
        assert purge_expired(session, now=T0 + 10**6) == len(keys)
        session.commit()


def test_an_ipv6_client_counts_by_its_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("testclient") == "testclient"


def test_on_sqlite_counting_inside_a_started_transaction_is_refused_not_deadlocked(ctx: AppContext) -> None:
    if ctx.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database")
    with ctx.sessions() as session:
        session.scalar(select(RateLimit.key))
        with pytest.raises(RuntimeError, match="before the request reads"):
            count_pin_guess(session, client="192.0.2.1", tracking_number="MPP-AAAA-0001", now=T0)
