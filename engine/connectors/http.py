"""One HTTP call of a described operation: build the request, send it with httpx, map the answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from engine.connectors.spec import PLACEHOLDER, Operation, path_problem

EXCERPT = 500


class CallRefused(Exception):
    """The call cannot be made or its answer cannot be used; retrying will not help."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status, self.body = status, body[:EXCERPT]


class CallFailed(Exception):
    """The partner did not answer usefully this time (timeout, connection, 5xx); try again later."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Request:
    """What is sent: method, full URL, headers and JSON body."""

    method: str
    url: str
    headers: dict[str, str]
    body: Any


def _lookup(values: dict[str, Any], name: str) -> Any:
    current: Any = values
    for part in name.split("."):
        if not isinstance(current, dict) or part not in current:
            raise CallRefused(f"Isian '{name}' tidak ada di data permohonan. / The case field '{name}' is not set.")
        current = current[part]
    return current


def render_body(template: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Fill a body template: a string names a case field, a table nests, {value = ...} is literal."""
    out: dict[str, Any] = {}
    for key, item in template.items():
        if isinstance(item, dict) and "value" in item:
            out[key] = item["value"]
        elif isinstance(item, dict):
            out[key] = render_body(item, values)
        else:
            out[key] = _lookup(values, str(item))
    return out


def render_path(path: str, values: dict[str, Any]) -> str:
    """Put URL-encoded case fields into a path's {field} places (a value cannot add a segment)."""
    rendered = PLACEHOLDER.sub(lambda m: quote(str(_lookup(values, m.group(1))), safe=""), path)
    problem = path_problem(rendered)
    if problem:
        raise CallRefused(problem)
    return rendered


def build(operation: Operation, values: dict[str, Any], *, base_url: str, headers: dict[str, str],
          ticket: str) -> Request:
    """Build the request of an operation from case values, for a bound base URL."""
    body = render_body(operation.body, values) if operation.body is not None else None
    sent = {"Accept": "application/json", "Idempotency-Key": ticket, **headers}
    return Request(operation.method, base_url + render_path(operation.path, values), sent, body)


@dataclass(frozen=True)
class Answer:
    """The partner's answer: status and the body's text."""

    status: int
    text: str


def send(request: Request, *, timeout_s: float) -> Answer:
    """Send a request; raise CallFailed on a timeout, a connection error or a 5xx."""
    try:
        with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
            response = client.request(request.method, request.url, headers=request.headers,
                                      json=request.body)
    except httpx.TimeoutException as exc:
        raise CallFailed(f"no answer within {timeout_s:g} s") from exc
    except httpx.HTTPError as exc:
        raise CallFailed(f"{type(exc).__name__}: the partner cannot be reached") from exc
    if response.status_code >= 500:
        raise CallFailed(f"the partner answered {response.status_code}: {response.text[:200]}",
                         status=response.status_code)
    return Answer(response.status_code, response.text)


def _pointer(document: Any, pointer: str) -> Any:
    """Resolve an RFC 6901 JSON pointer; raise KeyError when it leads nowhere."""
    current = document
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            raise KeyError(pointer)
    return current


def map_response(operation: Operation, answer: Answer) -> dict[str, Any]:
    """Map a 2xx answer into case fields by the operation's pointers; raise CallRefused when it does not fit."""
    if not operation.response:
        return {}
    try:
        document = json.loads(answer.text)
    except ValueError as exc:
        raise CallRefused(f"Jawaban mitra bukan JSON. / The partner's answer is not JSON ({operation.name}).",
                          status=answer.status, body=answer.text) from exc
    mapped: dict[str, Any] = {}
    for name, pointer in operation.response.items():
        try:
            mapped[name] = _pointer(document, pointer)
        except KeyError as exc:
            raise CallRefused(
                f"Jawaban mitra tidak memuat '{pointer}' untuk isian '{name}'. / The partner's answer has nothing "
                f"at '{pointer}' for the field '{name}' ({operation.name}).", status=answer.status,
                body=answer.text) from exc
    return mapped
