"""One transaction per request, committed before the response leaves."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

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
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            request = JsonRequest(request.scope, request.receive)
            try:
                response = await handler(request)
            except BaseException:
                await _finish(request, commit=False)
                raise
            await _finish(request, commit=True)
            return response

        return run


class JsonRequest(Request):
    """A request whose JSON body reads an integer too long for Python as infinity, so its field is named.

    Python refuses integers of more than 4,300 digits, and the whole body then failed with "There
    was an error parsing the body". Read as infinity (as the json module already reads `1e400`),
    the number reaches the engine's check, which names its field (`forms.numbers`).
    """

    async def json(self) -> Any:
        """Return the parsed JSON body."""
        return json.loads(await self.body(), parse_int=read_json_int)


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

    await run_in_threadpool(done)
