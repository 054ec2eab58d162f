"""The task feed: a Server-Sent Events stream of the open tasks that become the caller's, and of those that go.

One stream per logged-in client, not per case (docs/api.md "Task feed"). The route authenticates
like every route and returns at once, so the request's session is committed and closed before the
first byte streams; each read of the change log afterwards opens and closes its own short session
in the thread pool. A per-process hub wakes the streams: at once after a commit in this process
that may have changed tasks (`engine.cases.feed.listen`), and after a poll of the change log's head
every `MPP_FEED_POLL_S` for other processes' commits. At each wake-up it reads the changes once for
all its streams, with each task as it is now, and hands each stream its events (the inbox's rule,
`engine.cases.feed.events_of`); a stream with none is not woken.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import suppress
from types import FrameType
from typing import Annotated, Any

import jwt
from anyio import to_thread
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import CurrentActor, actor_of_token, oauth2
from api.errors import ApiError
from api.routing import router
from api.schemas import Model, TaskRead
from engine.cases import feed as feed
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.errors import DomainError
from web.ratelimit import RateLimited

log = logging.getLogger(__name__)
routes = router(tags=["tasks"])
STREAMS_PER_USER = 5  # per API process
KEEPALIVE_S = 15.0
RETRY_MS = 3000
PRUNE_EVERY_S = 300.0
SETTLE_RETRY_S = (0.02, 1.0)  # first and last wait before looking again at changes not settled yet
CURSOR = r"^[0-9]{1,19}-[0-9]{1,19}$"
EXPIRED = "the token expired: reconnect with a new one"


class TooManyStreams(RateLimited):
    """The user already holds as many task feeds as one process serves them."""

    def __init__(self, limit: int) -> None:
        DomainError.__init__(self, f"at most {limit} task feeds per user at once: close one first", message_id=(
            f"paling banyak {limit} umpan tugas per pengguna sekaligus: tutup salah satunya"))
        self.retry_after = 5


class FeedTaskRead(Model):
    """A `task` event: an open task the caller may work on now, as the inbox lists it."""

    task: TaskRead
    tracking_number: str | None


class FeedGoneRead(Model):
    """A `gone` event: a task the caller could see that they may no longer work on (done, or someone else's)."""

    task_id: str
    case_id: int


Line = tuple[feed.Cursor, str]  # an event as sent, with its cursor


class Stream:
    """One open feed: its actor (refreshed at every keep-alive), the event that wakes it, and what the hub
    read for it since it last looked: its events' lines up to a cursor, or `behind` (read them yourself).
    """

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.wake = asyncio.Event()
        self.batches: list[tuple[list[Line], feed.Cursor]] = []
        self.behind = False

    def deliver(self, lines: list[Line], upto: feed.Cursor) -> None:
        """Hand the stream its events among the changes up to `upto` (on the event loop)."""
        self.batches.append((lines, upto))
        self.wake.set()

    def fall_behind(self) -> None:
        """Tell the stream that the hub did not read its events: it reads them itself (on the event loop)."""
        self.behind = True
        self.batches.clear()
        self.wake.set()


class FeedHub:
    """This process's feed streams and what wakes them: commits here, and a poll of the change log's head."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.closing = False
        self._lock = threading.Lock()
        self._streams: weakref.WeakSet[Stream] = weakref.WeakSet()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kick = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._head = feed.START
        self._primed = asyncio.Event()
        self._pruned_at = 0.0

    def open(self, actor: Actor) -> Stream:
        """Register a stream for the actor; TooManyStreams past the per-user limit."""
        with self._lock:
            if sum(1 for s in self._streams if s.actor.user_id == actor.user_id) >= STREAMS_PER_USER:
                raise TooManyStreams(STREAMS_PER_USER)
            stream = Stream(actor)
            self._streams.add(stream)
            return stream

    def close(self, stream: Stream) -> None:
        """Forget a stream that ended."""
        with self._lock:
            self._streams.discard(stream)

    @property
    def head(self) -> feed.Cursor:
        """Return the newest settled cursor the poller has seen (the streams read up to it)."""
        return self._head

    async def start(self) -> None:
        """Run the poller on this event loop (again, if it stopped when the last stream ended)."""
        if self._poller is None or self._poller.done():
            self._loop = asyncio.get_running_loop()
            self._kick, self._primed = asyncio.Event(), asyncio.Event()
            feed.listen(self.poke)
            self._poller = asyncio.create_task(self._poll(), name="mpp-task-feed")
        _end_streams_on_exit_signals()
        await self._primed.wait()  # the poller knows the head: every change after it will be announced

    def poke(self) -> None:
        """Ask the poller to look at the change log now (from any thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._kick.set)

    def shut_down(self) -> None:
        """End every stream (the server is stopping); safe to call from a signal handler."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._end_all)

    def _end_all(self) -> None:
        self.closing = True
        for stream in list(self._streams):
            stream.wake.set()
        self._kick.set()

    async def _poll(self) -> None:
        try:
            self._head = await to_thread.run_sync(self.head_now)
            self._primed.set()
            retry = 0.0  # while changes wait to settle, look again after a growing short wait
            while self._streams and not self.closing:
                wait = min(retry, self.ctx.settings.feed_poll_s) if retry else self.ctx.settings.feed_poll_s
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), wait)
                self._kick.clear()
                try:
                    pending = await self._look()
                except Exception:  # the database went away: the streams' own reads report it; poll on
                    log.exception("task feed: reading the change log failed")
                    pending = False
                first, last = SETTLE_RETRY_S
                retry = min(retry * 2 or first, last) if pending else 0.0
        finally:
            feed.unlisten(self.poke)

    async def _look(self) -> bool:
        """Hand each stream its events among the changes since the last look; return whether some are not settled.

        One read of the changes for every stream of the process (`feed.read_changed`), sorted per stream
        in the same thread: a stream wakes only when it has events, and reads nothing itself. When there
        were too many changes to read at once, each stream reads its own (`fall_behind`).
        """
        streams = list(self._streams)
        head, found, pending = await to_thread.run_sync(self._read_changes, self._head, streams)
        if head != self._head:
            self._head = head
            for stream in streams:
                if found is None:
                    stream.fall_behind()
                elif found.get(stream):
                    stream.deliver(found[stream], head)
        if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            await to_thread.run_sync(self._prune)
        return pending

    def head_now(self) -> feed.Cursor:
        """Return the change log's newest settled cursor (in its own short session)."""
        with transaction(self.ctx.sessions) as session:
            return feed.head(session)

    def _read_changes(self, after: feed.Cursor,
                      streams: list[Stream]) -> tuple[feed.Cursor, dict[Stream, list[Line]] | None, bool]:
        with transaction(self.ctx.sessions) as session:
            head, pending = feed.head_and_pending(session)
            changed = feed.read_changed(session, after=after, upto=head) if head != after else []
            if changed is None:
                return head, None, pending
            lines: dict[str, str] = {}  # one line per event, whichever streams it goes to
            found = {stream: [(ev.cursor, _line(ev, lines)) for ev in feed.events_of(stream.actor, changed)]
                     for stream in streams} if changed else {}
            return head, found, pending

    def _prune(self) -> None:
        with transaction(self.ctx.sessions) as session:
            feed.prune(session)


_hubs: weakref.WeakSet[FeedHub] = weakref.WeakSet()
_hubs_lock = threading.Lock()
_signals_chained = False


def hub_of(app: FastAPI) -> FeedHub:
    """Return the app's feed hub, made on first use."""
    with _hubs_lock:
        hub: FeedHub | None = getattr(app.state, "task_feed", None)
        if hub is None:
            hub = app.state.task_feed = FeedHub(app.state.ctx)
            _hubs.add(hub)
        return hub


def _end_streams_on_exit_signals() -> None:
    """Chain SIGINT/SIGTERM so that open streams end before uvicorn waits for connections to close.

    uvicorn's graceful shutdown waits for every response to finish, and a feed never would; it sends
    the app no word of the shutdown until the connections are closed. Its own handler still runs.
    """
    global _signals_chained
    if _signals_chained or threading.current_thread() is not threading.main_thread():
        return
    _signals_chained = True
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            for hub in list(_hubs):
                hub.shut_down()
            if callable(previous):
                previous(signum, frame)
            else:  # nobody handled it before us: do what the default would
                signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
                signal.raise_signal(signum)

        signal.signal(sig, handler)


def _sse(kind: str, data: Any, cursor: feed.Cursor) -> str:
    return f"id: {cursor}\nevent: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _line(ev: feed.FeedEvent, made: dict[str, str] | None = None) -> str:
    """Return an event's line; `made` keeps the lines already made, by event (the same for every stream)."""
    key = f"{ev.kind} {ev.cursor}"
    if made is not None and key in made:
        return made[key]
    if ev.kind == "task" and ev.task is not None:
        body = FeedTaskRead(task=TaskRead.model_validate(ev.task), tracking_number=ev.tracking_number)
        line = _sse("task", body.model_dump(mode="json"), ev.cursor)
    else:
        line = _sse("gone", FeedGoneRead(task_id=ev.task_id, case_id=ev.case_id).model_dump(), ev.cursor)
    if made is not None:
        made[key] = line
    return line


def _read(ctx: AppContext, actor: Actor, cursor: feed.Cursor,
          upto: feed.Cursor | None) -> tuple[list[str], feed.Cursor, bool]:
    with transaction(ctx.sessions) as session:
        if upto is None:  # the first read: its replay holds every change committed before the request
            feed.settle_before_now(session)
        batch = feed.read_events(session, actor=actor, after=cursor, upto=upto)
        return [_line(ev) for ev in batch.events], batch.cursor, batch.reset


def _reauthenticate(ctx: AppContext, token: str) -> Actor | None:
    try:
        with transaction(ctx.sessions) as session:
            return actor_of_token(session, ctx, token)
    except ApiError:  # expired, logged out, deactivated
        return None


async def _events(hub: FeedHub, stream: Stream, token: str, expires_at: float,
                  resume: feed.Cursor | None) -> AsyncIterator[str]:
    ctx = hub.ctx
    try:
        await hub.start()
        yield f"retry: {RETRY_MS}\n\n"
        cursor = resume if resume is not None else hub.head
        # The first read checks the client's cursor and reads to the newest change; after it the hub
        # hands the stream its events (each kept once: the first read may have sent it already), or
        # tells it to read them itself up to the head the poller announced.
        ready = False
        while not hub.closing:
            stream.wake.clear()
            lines: list[str] = []
            reset = False
            if not ready or stream.behind:  # a first read checks the client's cursor and reads to the newest
                stream.behind = False
                stream.batches.clear()  # what they held is read again here
                if not ready or hub.head > cursor:
                    lines, cursor, reset = await to_thread.run_sync(_read, ctx, stream.actor, cursor,
                                                                    hub.head if ready else None)
            if ready:  # what the hub read for this stream, past what it has sent
                batches, stream.batches = stream.batches, []
                for found, upto in batches:
                    lines += [line for at, line in found if at > cursor]
                    cursor = max(cursor, upto)
            if reset:
                yield _sse("reset", {"reason": "behind the change log: read GET /api/tasks again"}, cursor)
            for line in lines:
                yield line
            if not ready:
                ready = True
                yield _sse("ready", {"cursor": str(cursor)}, cursor)
            woke = await _wait(stream.wake, min(KEEPALIVE_S, expires_at - time.time()))
            if hub.closing:
                return
            if time.time() >= expires_at:
                yield _sse("expired", {"reason": EXPIRED}, cursor)
                return
            if not woke:  # keep-alive time: is the token still good (logout, deactivation)? then read again
                actor = await to_thread.run_sync(_reauthenticate, ctx, token)
                if actor is None:  # the wait can end a hair before the expiry it waited for
                    reason = EXPIRED if time.time() >= expires_at else "the token is no longer valid: log in again"
                    yield _sse("expired", {"reason": reason}, cursor)
                    return
                stream.actor = actor
                yield ": keep-alive\n\n"
    finally:
        hub.close(stream)


async def _wait(wake: asyncio.Event, timeout: float) -> bool:
    try:
        await asyncio.wait_for(wake.wait(), max(timeout, 0.0))
    except TimeoutError:
        return False
    return True


@routes.get("/api/tasks/feed", response_class=StreamingResponse, responses={200: {
    "description": "Server-Sent Events: `ready`, `task`, `gone`, `reset`, `expired` (docs/api.md \"Task feed\")",
    "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
def task_feed(
    request: Request, actor: CurrentActor, token: Annotated[str | None, Depends(oauth2)],
    last_event_id: Annotated[str | None, Header(max_length=60, description="the last event's id, to resume")] = None,
    after: Annotated[str | None, Query(pattern=CURSOR, description="resume after this event id")] = None,
) -> StreamingResponse:
    """Stream the open tasks that become the caller's and those that go, as Server-Sent Events (resumable)."""
    text = last_event_id or after
    cursor = feed.parse_cursor(text) if text else None
    if text and cursor is None:
        cursor = feed.Cursor(2**63 - 1, 0)  # unreadable: past any head, so the stream starts with `reset`
    assert token is not None  # noqa: S101 - CurrentActor refused a request without one
    expires_at = float(jwt.decode(token, options={"verify_signature": False})["exp"])
    hub = hub_of(request.app)
    stream = hub.open(actor)
    return StreamingResponse(_events(hub, stream, token, expires_at, cursor), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
