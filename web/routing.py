"""One transaction per request, committed before the response leaves."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from engine import db as db
from forms.numbers import read_json_int

SESSION = "db_session"


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
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            request = JsonRequest(request.scope, request.receive)
            for attempt in range(1, db.ATTEMPTS + 1):
                try:
                    with db.write_lock_first(attempt == db.ATTEMPTS):
                        return await _attempt(handler, request)
                except Exception as exc:
                    if attempt == db.ATTEMPTS or not db.is_retryable(exc):
                        raise
                request.rewind()
                await anyio.sleep(db.retry_delay(attempt))
            raise AssertionError("unreachable")  # pragma: no cover

        return run


async def _attempt(handler: Callable[[Request], Coroutine[Any, Any, Response]], request: Request) -> Response:
    """Run the handler (dependencies, endpoint, response) once and commit its session, or roll back."""
    try:
        response = await handler(request)
    except BaseException:
        await _finish(request, commit=False)
        raise
    await _finish(request, commit=True)
    return response


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
        return
    del request.scope[SESSION]

    def done() -> None:
        try:
            if commit:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()

    if db.ends_at_once(session):
        done()  # a read on SQLite: dropping its snapshot is not worth a thread hop
    else:
        await run_in_threadpool(done)
