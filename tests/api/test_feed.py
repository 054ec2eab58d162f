"""The task feed (issue 18): GET /api/tasks/feed streams the tasks that become the caller's, over real HTTP.

The streams are read from a real uvicorn server on the test's database (the test client buffers a
response until it ends, and a feed does not end); the cases are moved through the test client on the
same database. Waits are bounded; nothing here measures time.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api import feed as api_feed
from api.bootstrap import DEMO_PASSWORD
from api.security import create_token
from bench import pbg_requests
from engine.cases import feed as feed_module
from engine.cases.feed import parse_cursor as feed_cursor
from engine.context import AppContext
from engine.models import User
from tests.api.conftest import logins
from tests.api.test_tasks import FRONT, GRIYA, Login, inbox, make_officer, post_complete, start
from tests.factories import api_drawings, api_upload
from tests.live import app_over_http, serve

WAIT_S = 30.0  # a bound on waiting for an event, never a measurement


class Feed:
    """One open feed read in a thread: its events, in order, in a queue."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.status: int | None = None
        self._http = httpx.Client(base_url=base, timeout=httpx.Timeout(5, read=None))
        self._thread = threading.Thread(target=self._read, args=(headers,), daemon=True)
        self._thread.start()

    def _read(self, headers: dict[str, str]) -> None:
        try:
            with self._http.stream("GET", "/api/tasks/feed", headers=headers) as response:
                self.status = response.status_code
                if response.status_code != 200:
                    response.read()
                    self.events.put({"event": "refused", "status": response.status_code, "data": response.json()})
                    return
                for event in pbg_requests.sse_events(response.iter_lines()):
                    self.events.put(event)
        except httpx.HTTPError:
            pass
        finally:
            self.events.put(None)  # the stream ended

    def next(self) -> dict[str, Any] | None:
        """Return the next event (None when the stream ended); fail after a bounded wait."""
        try:
            return self.events.get(timeout=WAIT_S)
        except queue.Empty:
            pytest.fail("no event from the task feed")

    def until(self, kind: str) -> list[dict[str, Any]]:
        """Return the events up to and including the next one of `kind`."""
        seen: list[dict[str, Any]] = []
        while True:
            event = self.next()
            assert event is not None, f"the stream ended before a {kind!r} event: {seen}"
            seen.append(event)
            if event["event"] == kind:
                return seen

    def close(self) -> None:
        """Hang up; the reading thread ends when the server next writes (a keep-alive) or stops, not waited for."""
        self._http.close()


@contextmanager
def feeds(base: str) -> Iterator[Any]:
    opened: list[Feed] = []

    def open_feed(headers: dict[str, str], *, ready: bool = True) -> Feed:
        feed = Feed(base, headers)
        opened.append(feed)
        if ready:
            feed.until("ready")
        return feed

    try:
        yield open_feed
    finally:
        for feed in opened:
            feed.close()


@pytest.fixture
def server(catalogue: AppContext) -> Iterator[str]:
    with app_over_http(catalogue) as base:
        yield base


def test_a_pbg_case_as_staffed_is_nine_requests_with_the_feed(server: str) -> None:
    with httpx.Client(base_url=server, timeout=WAIT_S) as http:
        tokens = pbg_requests.login(http, pbg_requests.users("feed"))
        feeds = pbg_requests.open_feeds(server, tokens)
        try:
            tally = pbg_requests.drive_case(http, tokens, "feed", feeds)
        finally:
            for feed in feeds.values():
                feed.close()
    assert dict(tally.requests) == {"apply": 1, "complete": 8}  # no inbox read: the feed told each user


def test_feed_is_not_read_as_a_task_id(client: TestClient) -> None:
    response = client.get("/api/tasks/feed")
    assert response.status_code == 401, response.text


def test_an_officer_gets_the_task_another_user_made_and_another_role_gets_nothing(
        client: TestClient, login: Login, server: str) -> None:
    with feeds(server) as open_feed:
        front, griya, tpa = open_feed(login(FRONT)), open_feed(login(GRIYA)), open_feed(login("pupr_tpa"))
        case = start(client, login)  # the applicant applies: the counter's check is the front office's
        event = front.next()
        assert event is not None
        assert event["event"] == "task"
        task = event["data"]["task"]
        assert (task["case_id"], task["element_id"], task["role"]) == (case["id"], "Task_kelengkapan",
                                                                       "dpmptsp.front_office")
        assert event["data"]["tracking_number"] == case["tracking_number"]
        assert {"id", "name", "due_at", "assignee_id", "process_key"} <= set(task)
        assert feed_cursor(event["id"]) is not None  # the resumable cursor
        # The front office completes it: its feed drops the task; the consultant's design is next.
        assert post_complete(client, login, FRONT, task["id"], {"kelengkapan": "lengkap"}).status_code == 200
        # Claimed and completed in one transaction: the feed tells only the task's last state.
        gone = front.next()
        assert gone is not None
        assert (gone["event"], gone["data"]) == ("gone", {"task_id": task["id"], "case_id": case["id"]})
        drawings = griya.until("task")[-1]["data"]["task"]
        assert drawings["element_id"] == "Task_gambar_teknis"
        done = post_complete(client, login, GRIYA, drawings["id"], api_drawings(client, login(GRIYA)))
        assert done.status_code == 200, done.text
        # The expert panel's first event is its own task: nothing of the front office's came before it.
        first = tpa.next()
        assert first is not None
        assert first["event"] == "task"
        assert (first["data"]["task"]["case_id"], first["data"]["task"]["element_id"]) == (case["id"], "Task_tpa")


def _drive_to_payment(client: TestClient, login: Login, case_id: int) -> None:
    for user, element, data in pbg_requests._steps()[:5]:
        found = client.get("/api/tasks", params={"case_id": case_id}, headers=login(user)).json()["items"]
        task_id = next(t["id"] for t in found if t["element_id"] == element)
        if element == "Task_gambar_teknis":
            data = api_drawings(client, login(user))
        answer = post_complete(client, login, user, task_id, data)
        assert answer.status_code == 200, answer.text


def test_an_applicant_gets_their_own_payment_task_and_not_another_applicants(
        client: TestClient, login: Login, server: str) -> None:
    made = client.post("/api/users", json={"username": "warga_lain", "password": DEMO_PASSWORD,
                                           "platform_role": "applicant"}, headers=login("admin"))
    assert made.status_code == 201, made.text
    with feeds(server) as open_feed:
        mine, other = open_feed(login("warga")), open_feed(login("warga_lain"))
        theirs = start(client, login, "warga_lain")
        case = start(client, login)
        _drive_to_payment(client, login, case["id"])
        events = mine.until("task")
        assert [(e["data"]["task"]["case_id"], e["data"]["task"]["element_id"]) for e in events] == [
            (case["id"], "Task_pembayaran")]
        # The other applicant's first event is their own case's payment, never the first one's.
        _drive_to_payment(client, login, theirs["id"])
        first = other.next()
        assert first is not None
        assert (first["data"]["task"]["case_id"], first["data"]["task"]["element_id"]) == (
            theirs["id"], "Task_pembayaran")
        assert first["data"]["tracking_number"] == theirs["tracking_number"]


def test_a_claim_by_another_officer_drops_the_task_from_the_others_feed(
        client: TestClient, login: Login, server: str) -> None:
    make_officer(client, login, "fo_kedua", "dpmptsp.front_office")
    with feeds(server) as open_feed:
        second = open_feed(login("fo_kedua"))
        case = start(client, login)
        task = second.until("task")[-1]["data"]["task"]
        assert client.post(f"/api/tasks/{task['id']}/claim", headers=login(FRONT)).status_code == 200
        gone = second.next()
        assert gone is not None
        assert (gone["event"], gone["data"]) == ("gone", {"task_id": task["id"], "case_id": case["id"]})


def test_reconnecting_with_last_event_id_replays_what_was_missed_once(
        client: TestClient, login: Login, server: str) -> None:
    with feeds(server) as open_feed:
        first = open_feed(login(FRONT), ready=False)
        ready = first.until("ready")[-1]
        first.close()
        cases = [start(client, login), start(client, login)]
        again = open_feed(login(FRONT) | {"Last-Event-ID": ready["id"]}, ready=False)
        replayed = again.until("ready")
        tasks = [e for e in replayed if e["event"] == "task"]
        assert [e["data"]["task"]["case_id"] for e in tasks] == [c["id"] for c in cases]
        assert len({e["id"] for e in tasks}) == 2
        # Resuming from the last event replays nothing; a new task comes once.
        last = open_feed(login(FRONT) | {"Last-Event-ID": tasks[-1]["id"]}, ready=False)
        assert [e["event"] for e in last.until("ready")] == ["ready"]
        third = start(client, login)
        assert [e["data"]["task"]["case_id"] for e in last.until("task")] == [third["id"]]
        # An id the server cannot place: re-read the inbox.
        lost = open_feed(login(FRONT) | {"Last-Event-ID": "garbage"}, ready=False)
        assert [e["event"] for e in lost.until("ready")] == ["reset", "ready"]


def test_the_stream_ends_when_the_token_expires(client: TestClient, catalogue: AppContext, server: str) -> None:
    with catalogue.sessions() as session:
        user = session.query(User).filter_by(username=FRONT).one()
        user_id, epoch = user.id, user.session_epoch
    # A token that has two seconds left (the signature and expiry are checked against the real clock).
    now = datetime.now(UTC) - timedelta(seconds=58)
    token = create_token(user_id=user_id, epoch=epoch, secret=catalogue.settings.secret_key.get_secret_value(),
                         minutes=1, now=now)
    with feeds(server) as open_feed:
        feed = open_feed({"Authorization": f"Bearer {token}"})
        assert feed.until("expired")[-1]["data"]["reason"].startswith("the token expired")
        assert feed.next() is None  # and the stream ended


def test_a_user_holds_at_most_five_feeds_per_process(login: Login, server: str) -> None:
    with feeds(server) as open_feed:
        for _ in range(5):
            open_feed(login(FRONT))
        refused = open_feed(login(FRONT), ready=False).next()
        assert refused is not None
        assert (refused["status"], refused["data"]["type"]) == (429, "/api/problems/rate-limited")
        open_feed(login("pupr_tpa"))  # another user is not refused


def test_with_two_processes_a_feed_gets_tasks_made_in_either_and_the_server_stops(
        catalogue_template_db: Path, tmp_path: Path) -> None:
    with serve(catalogue_template_db, tmp_path, workers=2) as platform, feeds(platform.base) as open_feed, \
            httpx.Client(base_url=platform.base, timeout=WAIT_S) as http:
        login = logins(http)
        feed = open_feed(login(FRONT))
        # New connections each time: the applications land on either process; the feed sees them all.
        cases = [start(httpx.Client(base_url=platform.base, timeout=WAIT_S), login) for _ in range(4)]  # type: ignore[arg-type]
        seen = [feed.until("task")[-1]["data"]["task"]["case_id"] for _ in cases]
        assert seen == [c["id"] for c in cases]
        platform.process.terminate()
        # uvicorn waits for open responses to finish: the feed ends them, so the server stops (and,
        # its shutdown done, uvicorn raises the signal it caught again).
        assert platform.process.wait(timeout=WAIT_S) in (0, -signal.SIGTERM)
        assert feed.next() is None


def test_commits_in_this_process_wake_the_feed_without_waiting_for_the_poll(
        client: TestClient, login: Login, catalogue: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    # The poll and the keep-alive's re-read would come after every bounded wait below.
    catalogue.settings.feed_poll_s = 3 * WAIT_S
    monkeypatch.setattr(api_feed, "KEEPALIVE_S", 3 * WAIT_S)
    make_officer(client, login, "fo_kedua", "dpmptsp.front_office")
    with app_over_http(catalogue) as base, feeds(base) as open_feed:
        second = open_feed(login("fo_kedua"))
        case = start(client, login)  # the step writes its tasks as driver SQL
        task = second.until("task")[-1]["data"]["task"]
        assert task["case_id"] == case["id"]
        assert client.post(f"/api/tasks/{task['id']}/claim", headers=login(FRONT)).status_code == 200  # the ORM
        assert second.until("gone")[-1]["data"]["task_id"] == task["id"]


def test_only_commits_that_write_tasks_wake_the_feed(client: TestClient, login: Login) -> None:
    """An upload or a read commits rows the change log never holds: the hub is not woken to read nothing."""
    woken: list[str] = []

    def wake() -> None:
        woken.append("woken")

    feed_module.listen(wake)
    try:
        api_upload(client, login("warga"), "ktp.pdf")
        inbox(client, login, FRONT)
        assert woken == []
        case = start(client, login)  # the step writes its tasks as driver SQL
        assert woken
        woken.clear()
        task = inbox(client, login, FRONT, case_id=case["id"])["items"][0]
        assert woken == []
        assert client.post(f"/api/tasks/{task['id']}/claim", headers=login(FRONT)).status_code == 200  # an UPDATE
        assert woken
    finally:
        feed_module.unlisten(wake)


def test_a_change_held_back_by_another_transaction_arrives_once_it_settles(
        client: TestClient, login: Login, catalogue: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL a commit is not settled while an older transaction runs (in any database of the
    cluster); the hub looks again shortly instead of waiting for its poll or another commit.
    """
    if catalogue.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns: every change is settled when it commits")
    catalogue.settings.feed_poll_s = 3 * WAIT_S
    monkeypatch.setattr(api_feed, "KEEPALIVE_S", 3 * WAIT_S)
    make_officer(client, login, "fo_kedua", "dpmptsp.front_office")
    with app_over_http(catalogue) as base, feeds(base) as open_feed:
        second = open_feed(login("fo_kedua"))
        with catalogue.engine.connect() as blocker:
            blocker.execute(text("SELECT pg_current_xact_id()"))  # holds a transaction id: nothing after it settles
            case = start(client, login)
            assert second.events.empty()
            blocker.rollback()
        task = second.until("task")[-1]["data"]["task"]  # no commit follows to wake the hub; the poll is far off
        assert task["case_id"] == case["id"]


def settled_head(session: Session) -> feed_module.Cursor:
    """Return the change log's head once nothing waits to settle (on PostgreSQL another test worker's
    transaction in the same cluster holds newer rows back for a moment); a bounded wait."""
    deadline = time.monotonic() + WAIT_S
    while True:
        head, pending = feed_module.head_and_pending(session)
        if not pending:
            return head
        if time.monotonic() > deadline:
            pytest.fail("the task feed's changes did not settle")
        time.sleep(0.05)


def test_the_hubs_rule_in_python_gives_every_user_the_events_the_streams_sql_gives(
        client: TestClient, login: Login, catalogue: AppContext) -> None:
    """The hub sorts one read of the changes per stream in Python (`events_of`); a stream's own read (first
    read, replay) applies the same rules in SQL (`read_events`). Every account, and actors holding a role
    in another organisation or a supervisor role, must get the same events from both.
    """
    from sqlalchemy import select

    from engine.cases import feed
    from engine.db import transaction
    from engine.directory.actors import Actor, actor_for

    make_officer(client, login, "fo_kedua", "dpmptsp.front_office")
    first, second = start(client, login), start(client, login)
    _drive_to_payment(client, login, first["id"])  # opens, claims and closes tasks of five roles, then the applicant's
    task = client.get("/api/tasks", params={"case_id": second["id"]}, headers=login(FRONT)).json()["items"][0]
    assert client.post(f"/api/tasks/{task['id']}/claim", headers=login("fo_kedua")).status_code == 200
    with transaction(catalogue.sessions) as session:
        users = list(session.scalars(select(User)))
        actors = [actor_for(session, user) for user in users]
        officer = next(u for u in users if u.username == FRONT)
        actors += [Actor(officer.id, FRONT, "officer", frozenset({("dpmptsp.front_office", "pupr")})),
                   Actor(officer.id, FRONT, "officer", frozenset({("konsultan.perencana", "konsultan_mataram")})),
                   Actor(officer.id, FRONT, "officer", frozenset({("dpmptsp.supervisor", "dpmptsp"),
                                                                  ("pupr.supervisor", "pupr")}))]
        upto = settled_head(session)
        changed = feed.read_changed(session, after=feed.START, upto=upto)
        assert changed is not None
        kinds = set()
        for actor in actors:
            in_sql = feed.read_events(session, actor=actor, after=feed.START, upto=upto).events
            in_python = feed.events_of(actor, changed)
            assert [(e.cursor, e.kind, e.task_id, e.tracking_number) for e in in_python] == [
                (e.cursor, e.kind, e.task_id, e.tracking_number) for e in in_sql], actor.username
            kinds |= {e.kind for e in in_python}
    assert kinds == {"task", "gone"}  # both kinds were compared, not only empty lists
