"""Rate limits kept in the database: shared by every API process and kept across restarts.

Each counter is a `rate_limit` row under a string key. A check is one statement, an
`INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`, run on a connection of its own and committed
at once: a refused guess must stay counted even though its request then fails and rolls back. The
conflict's WHERE is the limit: when it does not hold, nothing is written, no row comes back and
the attempt is refused (a second, rare statement reads how long to wait). The row lock taken by
the upsert (PostgreSQL) or the database write lock (SQLite) makes check-and-count atomic across
processes. Expired rows are deleted now and then by the counting connection itself.

On SQLite the request's session takes the write lock with its first statement, so an attempt is
counted before the request reads anything (`count_*` refuses to run otherwise, rather than wait
for a lock its own request holds). What a successful attempt gives back rides on the request's
own transaction.

Limits (docs/operations.md "Rate limits, trusted proxies and session lifetime"):
- tracking PIN: 20 guesses a minute per client, and 10 wrong guesses per 15 minutes per tracking
  number (a right PIN is given back), whatever the client;
- NIK check against the civil registry: 10 a minute per client, and 5 per 15 minutes per NIK
  (counted under a keyed digest, so the table never holds a NIK), whatever the client;
- login: per username at one client, the first 5 failures are free, then the next attempt waits
  2, 4, 8 … seconds, at most 15 minutes (forgotten after an hour without attempts); per client,
  30 failures per 15 minutes across usernames. A success clears the username's failures at that
  client. Another client is never slowed by them, so an attacker cannot lock the owner out.
- complaints (filed without logging in, too): 5 per 15 minutes per client.
- queue tickets (kiosk, booking check-in, the ticket API): 120 per 15 minutes per client.
- satisfaction survey at the counter kiosk (no login): 30 answers per 10 minutes per client.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Delete, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.cases.tracking import normalise
from engine.errors import DomainError
from engine.models import RateLimit


class RateLimited(DomainError):
    """Too many attempts for one key; try again after `retry_after` seconds."""

    code = "rate-limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many attempts; try again in {retry_after} s",
                         message_id=f"terlalu banyak percobaan; coba lagi dalam {retry_after} detik")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Window:
    """At most `limit` counted attempts per fixed window of `seconds`, for each key under `prefix`."""

    prefix: str
    limit: int
    seconds: int


PIN_PER_CLIENT = Window("pin-client", 20, 60)
PIN_PER_NUMBER = Window("pin-number", 10, 15 * 60)
LOGIN_PER_CLIENT = Window("login-client", 30, 15 * 60)
NIK_PER_CLIENT = Window("nik-client", 10, 60)
NIK_PER_NUMBER = Window("nik-number", 5, 15 * 60)
COMPLAINT_PER_CLIENT = Window("complaint-client", 5, 15 * 60)
# A kiosk is one client that prints every visitor's ticket: generous, but a script cannot empty the day.
TICKET_PER_CLIENT = Window("ticket-client", 120, 15 * 60)
# A kiosk is one device (one address) that every visitor uses in turn: a visitor needs a minute or more,
# so 30 per 10 minutes never stops the hall, while a script posting answers is cut off after 30.
SURVEY_KIOSK_PER_CLIENT = Window("skm-kiosk-client", 30, 10 * 60)
LOGIN_PREFIX = "login"
FREE_FAILURES = 5
MAX_DELAY_S = 15 * 60
LOGIN_MEMORY_S = 60 * 60
PURGE_ONE_IN = 200  # counting statements between two deletions of expired rows (on average)


def login_delay(failures: int) -> int:
    """Return the seconds a username waits at one client after `failures` failed logins there."""
    if failures < FREE_FAILURES:
        return 0
    return int(min(2 ** (failures - FREE_FAILURES + 1), MAX_DELAY_S))


def client_key(client: str) -> str:
    """Return the key part for a client address: an IPv6 client counts by its /64, as one host has one."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _login_key(username: str, client: str) -> str:
    return f"{LOGIN_PREFIX}:{client_key(client)}:{username.strip().casefold()[:120]}"


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


# -- counting ------------------------------------------------------------------------------------

def _upsert(session: Session, key: str, *, values: dict[str, Any], changes: dict[str, Any],
            allowed: ColumnElement[bool], now: int) -> None:
    """Write the key's new row, or change it when `allowed` holds; raise RateLimited when it does not."""
    bind = session.get_bind().engine
    if bind.dialect.name == "sqlite" and session.in_transaction():
        raise RuntimeError("count the attempt before the request reads the database: "
                           "on SQLite its transaction holds the write lock")
    insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    stmt = (insert(RateLimit).values(key=key, **values)
            .on_conflict_do_update(index_elements=["key"], set_=changes, where=allowed)
            .returning(RateLimit.key))
    with bind.begin() as conn:
        if conn.execute(stmt).first() is not None:
            if secrets.randbelow(PURGE_ONE_IN) == 0:
                conn.execute(_expired(now))
            return
        row = conn.execute(select(RateLimit.expires_at, RateLimit.not_before).where(RateLimit.key == key)).first()
    # Refused: a back-off row waits for `not_before`, a full window for its end (a row that another
    # process has just cleared or purged leaves nothing to wait for but this second).
    until = now if row is None else row.not_before if row.not_before > now else row.expires_at
    raise RateLimited(max(1, until - now))


def _window(session: Session, window: Window, key: str, now: int) -> None:
    """Count one attempt in the key's fixed window; raise RateLimited when the window is full."""
    expired = RateLimit.expires_at <= now
    _upsert(session, f"{window.prefix}:{key}", now=now,
            values={"hits": 1, "expires_at": now + window.seconds, "not_before": 0},
            changes={"hits": case((expired, 1), else_=RateLimit.hits + 1),
                     "expires_at": case((expired, now + window.seconds), else_=RateLimit.expires_at)},
            allowed=or_(expired, RateLimit.hits < window.limit))


def _backoff(session: Session, key: str, now: int) -> None:
    """Count one attempt as a failure and say when the next may come; raise RateLimited when it is too early."""
    forgotten = RateLimit.expires_at <= now
    failures = RateLimit.hits + 1
    delays = [(failures == n, now + login_delay(n)) for n in range(2, _first_failure_at_cap())]
    _upsert(session, key, now=now,
            values={"hits": 1, "expires_at": now + LOGIN_MEMORY_S, "not_before": now + login_delay(1)},
            changes={"hits": case((forgotten, 1), else_=failures),
                     "expires_at": now + LOGIN_MEMORY_S,
                     "not_before": case((forgotten, now + login_delay(1)), *delays, else_=now + MAX_DELAY_S)},
            allowed=or_(forgotten, RateLimit.not_before <= now))


def _first_failure_at_cap() -> int:
    failures = FREE_FAILURES
    while login_delay(failures) < MAX_DELAY_S:
        failures += 1
    return failures


def _expired(now: int) -> Delete:
    return delete(RateLimit).where(RateLimit.expires_at <= now, RateLimit.not_before <= now)


def _give_back(session: Session, key: str) -> None:
    session.execute(update(RateLimit).where(RateLimit.key == key, RateLimit.hits > 0)
                    .values(hits=RateLimit.hits - 1))


# -- the limits the routes use -------------------------------------------------------------------

def count_pin_guess(session: Session, *, client: str, tracking_number: str, now: int | None = None) -> None:
    """Count one tracking-PIN guess for the client and for the number; raise RateLimited when either is spent."""
    at = _now(now)
    _window(session, PIN_PER_CLIENT, client_key(client), at)
    _window(session, PIN_PER_NUMBER, _number_part(tracking_number), at)


def pin_matched(session: Session, *, tracking_number: str) -> None:
    """Give the number back the guess that matched: only wrong PINs count against a tracking number."""
    _give_back(session, f"{PIN_PER_NUMBER.prefix}:{_number_part(tracking_number)}")


def count_login_attempt(session: Session, *, username: str, client: str, now: int | None = None) -> None:
    """Count a login attempt as failed until it succeeds; raise RateLimited while it must wait."""
    at = _now(now)
    _backoff(session, _login_key(username, client), at)
    _window(session, LOGIN_PER_CLIENT, client_key(client), at)


def login_succeeded(session: Session, *, username: str, client: str) -> None:
    """Clear the username's failures at this client and give the client's count back the attempt."""
    session.execute(delete(RateLimit).where(RateLimit.key == _login_key(username, client)))
    _give_back(session, f"{LOGIN_PER_CLIENT.prefix}:{client_key(client)}")


def count_nik_check(session: Session, *, client: str, nik: str | None, secret: str, now: int | None = None) -> None:
    """Count a NIK check for the client and (given one) for the NIK; raise RateLimited when either is spent."""
    at = _now(now)
    _window(session, NIK_PER_CLIENT, client_key(client), at)
    if nik:
        digest = hmac.new(secret.encode(), b"nik-check:" + nik.encode(), hashlib.sha256).hexdigest()[:32]
        _window(session, NIK_PER_NUMBER, digest, at)


def count_complaint(session: Session, *, client: str, now: int | None = None) -> None:
    """Count one complaint filed from a client; raise RateLimited when the client's window is spent."""
    _window(session, COMPLAINT_PER_CLIENT, client_key(client), _now(now))


def count_kiosk_survey(session: Session, *, client: str, now: int | None = None) -> None:
    """Count one survey answer sent from a counter kiosk; raise RateLimited when the client's window is spent."""
    _window(session, SURVEY_KIOSK_PER_CLIENT, client_key(client), _now(now))


def count_ticket(session: Session, *, client: str, now: int | None = None) -> None:
    """Count one queue ticket taken from a client; raise RateLimited when the client's window is spent."""
    _window(session, TICKET_PER_CLIENT, client_key(client), _now(now))


def purge_expired(session: Session, *, now: int | None = None) -> int:
    """Delete the counters whose window and wait have both passed; return how many."""
    result = cast(CursorResult[Any], session.execute(_expired(_now(now))))
    return result.rowcount


def _number_part(tracking_number: str) -> str:
    return normalise(tracking_number)[:40]
