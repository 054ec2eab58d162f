"""The lean request path: a route's well-formed requests answered without FastAPI's general request handler.

FastAPI's handler serves every kind of route (forms, generators, `yield` dependencies, security
scopes, overrides, streaming, telemetry), and pays for that generality on each request: about a
fifth of the API's CPU on the event loop, more than the login check. Most API routes use little
of it: path and query parameters, one JSON body, and a few `async def` dependencies that read the
request (the bearer token, the session, the runtime).

`LeanHandler.of(route)` compiles such a route once: its dependency tree into a flat list of calls,
its parameters into the fields that validate them. A request whose parameters and body are valid
is then answered directly. Anything else (a field that fails validation, a body that is not JSON,
a dependency override) is declined before the endpoint runs, and FastAPI's own handler answers it
from the start, so every error response stays FastAPI's, word for word. The dependencies are pure
(they read the request; the session they open does no I/O before its first statement), so solving
them twice for a declined request changes nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from copy import deepcopy
from dataclasses import dataclass
from types import UnionType
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import APIRoute
from pydantic import Json
from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from fastapi._compat import ModelField

_JSON = "application/json"
_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class _Call:
    """One dependency: its callable, the parameter it fills in its parent, and what it takes itself."""

    call: Callable[..., Awaitable[Any]]
    name: str | None  # None for a route-level dependency (`dependencies=[...]`): run for its effect
    request_params: tuple[str, ...]
    children: tuple[_Call, ...]
    cached: bool


class LeanHandler:
    """A route's handler for its well-formed requests; `None` from a call means "FastAPI's handler answers"."""

    def __init__(self, route: APIRoute, dependant: Dependant, children: tuple[_Call, ...]) -> None:
        self.route = route
        self.call: Callable[..., Awaitable[Any]] = dependant.call  # type: ignore[assignment]
        self.children = children
        self.request_params = _request_params(dependant)
        self.path_fields = tuple(dependant.path_params)
        self.query_fields = list(dependant.query_params)
        # Scalar query parameters are read here; any other kind (a list, a model) by FastAPI's own function.
        plain = all(_scalar_query(field) for field in self.query_fields)
        self.query_scalars = tuple(self.query_fields) if self.query_fields and plain else None
        self.body_field = dependant.body_params[0] if dependant.body_params else None

    @classmethod
    def of(cls, route: APIRoute) -> LeanHandler | None:
        """Return the route's lean handler, or None when the route needs something only FastAPI's handler does."""
        dependant = route.dependant
        if not (_coroutine(dependant.call) and _plain_params(dependant, top=True) and _json_body(route, dependant)):
            return None
        children = _compile(dependant.dependencies)
        return cls(route, dependant, children) if children is not None else None

    async def __call__(self, request: Request) -> Response | None:
        """Answer the request, or return None, having run nothing but pure dependencies, to let FastAPI answer it."""
        overrides = self.route.dependency_overrides_provider
        if overrides is not None and getattr(overrides, "dependency_overrides", None):
            return None
        values: dict[str, Any] = {}
        if self.body_field is not None:
            body = await self._json(request)
            if body is None:
                return None
        cache: dict[Any, Any] = {}
        for child in self.children:
            value = await _solve(child, request, cache)
            if child.name is not None:
                values[child.name] = value
        path = request.path_params
        for field in self.path_fields:
            value, errors = field.validate(path.get(field.alias), values, loc=("path", field.alias))
            if errors:
                return None
            values[field.name] = value
        if self.query_scalars is not None:
            query = request.query_params
            for field in self.query_scalars:
                value = query.get(field.alias)
                if value is None:
                    if field.field_info.is_required():
                        return None
                    value = deepcopy(field.default)
                    if not field.field_info.validate_default:
                        values[field.name] = value
                        continue
                value, errors = field.validate(value, values, loc=("query", field.alias))
                if errors:
                    return None
                values[field.name] = value
        elif self.query_fields:
            answers, errors = request_params_to_args(self.query_fields, request.query_params)
            if errors:
                return None
            values.update(answers)
        if self.body_field is not None:
            value, errors = self.body_field.validate(body, values, loc=("body",))
            if errors:
                return None
            values[self.body_field.name] = value
        for name in self.request_params:
            values[name] = request
        answer = await self.call(**values)
        if not isinstance(answer, Response):  # the route's thread serializes every answer (`_OneHop`)
            raise TypeError(f"{self.route.path}: a lean route's endpoint answered {type(answer).__name__}")
        return answer

    @staticmethod
    async def _json(request: Request) -> Any:
        """Return the parsed JSON body; None for anything FastAPI's handler reads differently (or refuses)."""
        kind = request.headers.get("content-type", "")
        if kind.partition(";")[0].strip().lower() != _JSON:
            return None
        try:
            if not await request.body():
                return None
            return await request.json()
        except Exception:  # noqa: BLE001 -- FastAPI's handler reads it again and words the refusal
            return None


async def _solve(node: _Call, request: Request, cache: dict[Any, Any]) -> Any:
    if node.cached and node.call in cache:
        return cache[node.call]
    kwargs: dict[str, Any] = {}
    for child in node.children:
        value = await _solve(child, request, cache)
        if child.name is not None:
            kwargs[child.name] = value
    for name in node.request_params:
        kwargs[name] = request
    value = await node.call(**kwargs)
    cache.setdefault(node.call, value)
    return value


def _compile(dependencies: list[Dependant]) -> tuple[_Call, ...] | None:
    """Return the dependency tree as calls, or None when a node is more than an `async def` of the request."""
    calls = []
    for sub in dependencies:
        if not (_coroutine(sub.call) and _plain_params(sub, top=False)) or sub.concurrency is not None:
            return None
        children = _compile(sub.dependencies)
        if children is None:
            return None
        calls.append(_Call(sub.call, sub.name, _request_params(sub), children, sub.use_cache))  # type: ignore[arg-type]
    return tuple(calls)


def _coroutine(call: Any) -> bool:
    """Tell whether calling `call` returns a coroutine: an `async def` function, or an object whose __call__ is one."""
    if call is None or inspect.isclass(call):
        return False
    if inspect.isroutine(call):
        return inspect.iscoroutinefunction(call)
    return inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004 -- an instance's async __call__


def _plain_params(dependant: Dependant, *, top: bool) -> bool:
    """Tell whether the node takes only the request, its dependencies and (the route itself) path, query and body."""
    if (dependant.header_params or dependant.cookie_params or dependant.websocket_param_name
            or dependant.response_param_name or dependant.background_tasks_param_name
            or dependant.security_scopes_param_name or dependant.own_oauth_scopes or dependant.parent_oauth_scopes):
        return False
    if not top:
        return not (dependant.path_params or dependant.query_params or dependant.body_params)
    # A path parameter is read by its alias; FastAPI reads a validation alias first, so such a route is left to it.
    return all(field.field_info.validation_alias is None for field in dependant.path_params)


def _scalar_query(field: ModelField) -> bool:
    """Tell whether a query parameter is one value read by its alias: not a list, model or JSON, no validation alias."""
    info = field.field_info
    kinds = get_args(info.annotation) if get_origin(info.annotation) in (Union, UnionType) else (info.annotation,)
    return (info.validation_alias is None and not any(type(item) is Json for item in info.metadata)
            and all(kind in _SCALARS for kind in kinds))


def _json_body(route: APIRoute, dependant: Dependant) -> bool:
    """Tell whether the route takes no body, or one JSON model FastAPI validates whole (not embedded, not a form)."""
    if not dependant.body_params:
        return True
    field = dependant.body_params[0]
    return (len(dependant.body_params) == 1 and not getattr(route, "_embed_body_fields", True)
            and not isinstance(field.field_info, params.Form))


def _request_params(dependant: Dependant) -> tuple[str, ...]:
    return tuple(name for name in (dependant.request_param_name, dependant.http_connection_param_name) if name)
