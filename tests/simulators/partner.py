"""A scripted partner HTTP server: answers each request with the next scripted reply, records what came.

Start it with `with Partner() as partner:`; `partner.url` is its base URL. Script replies with
`partner.reply(status, json_body)`, `partner.reply_text(status, text)` or `partner.stall(seconds)`
(answer only after the caller's timeout). With the script empty it answers 200 `{}`. The server,
the request log and the faults are tests/simulators/base.py's.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from tests.simulators.base import Answer, Received, Simulator

__all__ = ["Partner", "Received"]


class Partner(Simulator):
    """The server, its script of replies and the requests it received."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.script: deque[Answer] = deque()

    def reply(self, status: int, body: Any) -> None:
        """Answer the next request with a JSON body."""
        self.script.append(Answer.json(status, body))

    def reply_text(self, status: int, text: str) -> None:
        """Answer the next request with a plain text body."""
        self.script.append(Answer(status, text))

    def stall(self, seconds: float, status: int = 200, body: Any = None) -> None:
        """Answer the next request only after `seconds` (past the caller's timeout)."""
        self.script.append(Answer(status, json.dumps(body or {}), seconds))

    def answer(self, request: Received) -> Answer:
        """Return the next scripted reply, or 200 {}."""
        with self.lock:
            return self.script.popleft() if self.script else Answer.json(200, {})
