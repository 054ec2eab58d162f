"""One transaction per request, committed before the response leaves."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from fastapi import Request, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.types import Scope

from engine import db as db
from engine.settings import Settings
from forms.numbers import read_json_int
from web.lean import LeanHandler

if TYPE_CHECKING:
    from fastapi._compat import ModelField

SESSION = "db_session"
# The scope of the request being served, for a plain `def` endpoint's thread (`in_thread` copies the context).
_SCOPE: ContextVar[Scope | None] = ContextVar("mpp_request_scope", default=None)
# The threads plain endpoints run in: at most `MPP_REQUEST_THREADS` requests of a process run their routes at
# once (engine.settings; `use_threads`), the others wait on the event loop for a free thread.
_POOL_SIZE: int = Settings.model_fields["request_threads"].default
_POOL = ThreadPoolExecutor(max_workers=_POOL_SIZE, thread_name_prefix="mpp-request")  # threads start on first use
_POOL_LOCK = threading.Lock()
T = TypeVar("T")


def use_threads(count: int) -> None:
    """Run plain endpoints in `count` threads from now on (an app's `request_threads`; the last app built wins).

    Few threads serve more requests than many: the routes are CPU work under one interpreter lock, so a
    request run beside many others takes longer for each of them, waits for the lock after each of its
    database round trips, and holds its connection and its SQLite write lock longer (bench/REPORT.md,
    "Request threads"). A thread pool of another size is replaced; requests already in the old one finish there.
    """
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:
        if _POOL_SIZE == count:
            return
        old, _POOL, _POOL_SIZE = _POOL, ThreadPoolExecutor(max_workers=count, thread_name_prefix="mpp-request"), count
    old.shutdown(wait=False)


async def in_thread(call: Callable[[], T]) -> T:
    """Run `call` in a request thread, in a copy of the caller's context; return its result or raise its error.

    What Starlette's `run_in_threadpool` did for a plain endpoint (anyio's `to_thread.run_sync`),
    at about half the event loop's cost: no capacity limiter, cancel scope or run variables, one
    future settled from the thread. Cancelling the caller does not abandon the call: it waits for
    the thread to finish (a request's commit or rollback is never left halfway) and then lets the
    cancellation through, as anyio does for a call it may not abandon.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def work() -> None:
        try:
            result = context.run(call)
        except BaseException as exc:  # the caller raises it
            loop.call_soon_threadsafe(_settle, done, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, done, result, None)

    _POOL.submit(work)
    try:
        return await asyncio.shield(done)
    except asyncio.CancelledError:
        while not done.done():
            try:
                await asyncio.shield(done)
            except asyncio.CancelledError:
                continue
        if not done.cancelled():
            done.exception()  # seen: the cancellation is what the caller gets
        raise


def _settle(done: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if exc is not None:
        done.set_exception(exc)
    else:
        done.set_result(result)


class TransactionalRoute(APIRoute):
    """Commit the request's session when the endpoint returns, roll back when it raises, then close.

    The rule is "return to keep, raise to undo", whatever the status: a form page that refuses
    its input returns a 4xx page and keeps what it wrote on purpose (the files that did upload, so
    they need not be sent again), having rolled back its refused write in a savepoint
    (`session.begin_nested()`); a domain error raised anywhere undoes the whole request. The commit
    happens here, before the response is returned to the server, so a client never sees an answer
    whose data failed to commit. This is the only place a request's session commits.

    When the database asks for it (SQLite: the write lock was taken or the snapshot went stale;
    PostgreSQL: a serialization failure or deadlock), the whole request runs again with a fresh
    session on the same parsed body and form (its uploads rewound), at most `db.ATTEMPTS` times,
    the last taking SQLite's write lock at BEGIN. Nothing has left the process by then: the
    response is only returned after the commit, after-commit callbacks run only on commit, and the
    file store is content-addressed, so a file written twice is written once.

    A plain `def` endpoint (most of them) ends its request in the thread it runs in: its answer is
    serialized there (`_OneHop`) and the session committed there, so the request takes no further
    thread hops for the response's validation and the commit. That thread is one of `in_thread`'s,
    not FastAPI's thread pool: FastAPI sees a coroutine endpoint with the plain one's signature.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self._one_hop = _OneHop(endpoint) if _plain_function(endpoint) else None
        # FastAPI builds the route's own handler while constructing it; a handler built later serves the
        # route included in a router, whose dependencies FastAPI adds to that handler's tree alone.
        self._own_handler = True
        super().__init__(path, self._one_hop.run if self._one_hop is not None else endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        lean = self._lean_handler()

        async def run(request: Request) -> Response:
            request = JsonRequest(request.scope, request.receive)
            _SCOPE.set(request.scope)  # this request's own task: its context ends with it
            for attempt in range(1, db.ATTEMPTS + 1):
                try:
                    with db.write_lock_first(attempt == db.ATTEMPTS):
                        return await _attempt(handler, lean, request)
                except Exception as exc:
                    if attempt == db.ATTEMPTS or not db.is_retryable(exc):
                        raise
                request.rewind()
                await anyio.sleep(db.retry_delay(attempt))
            raise AssertionError("unreachable")  # pragma: no cover

        return run

    def _lean_handler(self) -> LeanHandler | None:
        """Return the lean path of the route's own handler: for a plain endpoint whose every answer is a response."""
        own, self._own_handler = self._own_handler, False
        if self._one_hop is None:
            return None
        self._one_hop.answer_as(self)
        return LeanHandler.of(self) if own and self._one_hop.field is not None else None


async def _attempt(handler: Callable[[Request], Coroutine[Any, Any, Response]], lean: LeanHandler | None,
                   request: Request) -> Response:
    """Run the handler (dependencies, endpoint, response) once and commit its session, or roll back.

    The lean handler answers first when the route has one; when it declines, FastAPI's handler answers.
    """
    try:
        response = await lean(request) if lean is not None else None
        if response is None:
            response = await handler(request)
    except BaseException:
        await _finish(request, commit=False)
        raise
    await _finish(request, commit=True)
    return response


class Deferred:
    """A dependency's value that needs the database, resolved in a plain endpoint's thread just before it runs.

    FastAPI runs each plain `def` dependency in a thread of its own (a hop each); a dependency that
    returns one of these instead is `async def`, and its database work joins the endpoint's hop.
    Only a plain endpoint of a transactional route resolves it (`_OneHop`); an error raised here
    is the endpoint's, and rolls the request back.
    """

    def resolve(self) -> Any:
        """Return the value the endpoint receives."""
        raise NotImplementedError


def _plain_function(endpoint: Callable[..., Any]) -> bool:
    """Tell whether FastAPI runs the endpoint in the thread pool: a plain function, not a coroutine or generator."""
    call = inspect.unwrap(endpoint)
    return inspect.isfunction(call) and not (inspect.iscoroutinefunction(call) or inspect.isgeneratorfunction(call)
                                             or inspect.isasyncgenfunction(call))


def _sets_response(dependant: Dependant) -> bool:
    """Tell whether the endpoint or a dependency takes FastAPI's `Response` parameter (headers, cookies)."""
    return dependant.response_param_name is not None or any(_sets_response(d) for d in dependant.dependencies)


class _OneHop:
    """A plain endpoint that, in its own thread (`in_thread`), serializes its answer and commits the request's session.

    What FastAPI would do after the endpoint, done the same way without another hop, for a route
    that answers JSON of its response model (FastAPI's default response class, a status with a
    body, no `Response` parameter): an answer of exactly the route's response model is already
    valid (it was validated when built), so it is dumped to JSON with the route's options; any
    other answer (a dict, a list, a subclass) is validated against the response field and dumped by
    it, as FastAPI does, and a failed validation raises here, rolling the session back. A route of
    another kind gets its answer back as the endpoint gave it, for FastAPI to serialize and the
    transactional route to commit. A raised error rolls the session back here.
    """

    def __init__(self, endpoint: Callable[..., Any]) -> None:
        self.endpoint = endpoint
        self.field: ModelField | None = None
        self.model: type[BaseModel] | None = None
        self.dump: dict[str, Any] = {}
        self.status = 200

        async def run(*args: Any, **kwargs: Any) -> Any:
            return await in_thread(functools.partial(self._run, *args, **kwargs))

        # The endpoint's name, docstring and signature (through __wrapped__): FastAPI reads its parameters there,
        # and, the wrapper being a coroutine function, awaits it on the event loop instead of using its thread pool.
        self.run = functools.wraps(endpoint)(run)

    def answer_as(self, route: APIRoute) -> None:
        """Take the route's response model, status and serialization options (known once FastAPI built it)."""
        model, status = route.response_model, route.status_code or 200
        answers_json = (route.response_field is not None and isinstance(route.response_class, DefaultPlaceholder)
                        and status not in (204, 304) and status >= 200 and not _sets_response(route.dependant))
        self.field = route.response_field if answers_json else None
        self.model = model if answers_json and isinstance(model, type) and issubclass(model, BaseModel) else None
        self.status = status
        self.dump = {"include": route.response_model_include, "exclude": route.response_model_exclude,
                     "by_alias": route.response_model_by_alias, "exclude_unset": route.response_model_exclude_unset,
                     "exclude_defaults": route.response_model_exclude_defaults,
                     "exclude_none": route.response_model_exclude_none}

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        scope = _SCOPE.get()
        try:
            kwargs = {name: value.resolve() if isinstance(value, Deferred) else value for name, value in kwargs.items()}
            answer = self.endpoint(*args, **kwargs)
            if self.field is not None and not isinstance(answer, Response):
                answer = self._json(answer)
            elif not isinstance(answer, Response):
                return answer  # FastAPI serializes it; the transactional route commits after that
        except BaseException:
            if scope is not None:
                _end(scope, commit=False)
            raise
        if scope is not None:
            _end(scope, commit=True)
        return answer

    def _json(self, answer: Any) -> Response:
        """Return the answer as the route's JSON response, validated as FastAPI does unless it is the exact model."""
        body: str | bytes
        if self.model is not None and type(answer) is self.model:
            body = answer.model_dump_json(**self.dump)
        else:
            assert self.field is not None  # noqa: S101 -- only called for a route with a response field
            value, errors = self.field.validate(answer, {}, loc=("response",))
            if errors:
                raise ResponseValidationError(errors, body=answer)
            body = self.field.serialize_json(value, **self.dump)
        return Response(body, status_code=self.status, media_type="application/json")


def _end(scope: Scope, *, commit: bool) -> None:
    """Commit or roll back the request's session, in the calling thread, and close it."""
    session = scope.pop(SESSION, None)
    if session is None:
        return
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


class JsonRequest(Request):
    """A request whose JSON body reads an integer too long for Python as infinity, so its field is named.

    Python refuses integers of more than 4,300 digits, and the whole body then failed with "There
    was an error parsing the body". Read as infinity (as the json module already reads `1e400`),
    the number reaches the engine's check, which names its field (`forms.numbers`).
    """

    async def json(self) -> Any:
        """Return the parsed JSON body."""
        return json.loads(await self.body(), parse_int=read_json_int)

    def rewind(self) -> None:
        """Rewind the uploaded files of the parsed form, so a retried request reads them from the start."""
        form = self._form  # parsed and cached by Starlette on this request object
        for _name, value in form.multi_items() if form is not None else ():
            if isinstance(value, UploadFile):
                value.file.seek(0)


async def _finish(request: Request, *, commit: bool) -> None:
    session = request.scope.get(SESSION)
    if session is None:
        return  # none opened, or a plain endpoint ended it in its thread
    if db.ends_at_once(session):
        _end(request.scope, commit=commit)  # a read on SQLite: dropping its snapshot is not worth a thread hop
    else:
        await in_thread(functools.partial(_end, request.scope, commit=commit))
