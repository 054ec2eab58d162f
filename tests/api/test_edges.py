"""The web edge's rules, checked on the source and on the assembled app so they stay true.

- Routes are plain `def` (run in the thread pool): an `async def` route that calls the engine or
  the database stalls every other request of its process.
- Only the edge commits: the transactional route for requests, `engine.db.transaction` for the
  CLI, jobs and bootstrap. The engine and repositories flush.
- One error root: every error raised on purpose is a `DomainError` whose `code` is a problem type
  of the one table in `api/errors.py`.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

from fastapi.dependencies.models import Dependant

from api import deps as api_deps
from api.app import create_app
from api.errors import PROBLEM_TYPES, ApiError, kind_of
from engine.context import AppContext
from engine.errors import DomainError
from tests.api.routes import api_routes
from web import deps
from web import privacy as web_privacy

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "admin", "portal", "web", "engine", "forms")

# Async endpoints that do no blocking work on the event loop; add one only with the reason.
ASYNC_ENDPOINTS: set[str] = {
    # Its database work runs in the request threads (`in_thread`), and its call to the civil registry (seconds at
    # worst) in anyio's thread pool, so that it holds no request thread meanwhile (MPP_REQUEST_THREADS).
    "portal.catalogue.check_nik",
}
# Async dependencies that await the request body, read a header or only compute: no database, no engine.
# FastAPI runs each plain `def` dependency in the thread pool, one hop per dependency per request.
ASYNC_DEPENDENCIES: set[object] = {
    deps.csrf_form, deps.csrf_header, api_deps.oauth2, deps.get_context, deps.get_session, deps.get_runtime,
    deps.client_address, deps.page_actor, api_deps.optional_actor, api_deps.current_actor, web_privacy.access_client,
    *(get_args(alias)[1].dependency for alias in (api_deps.AdminActor, api_deps.ModelerActor, api_deps.StaffActor,
                                                  deps.AdminPageActor, deps.ModelerPageActor, deps.StaffPageActor))}
# The edges that own a transaction: requests, and the CLI, jobs and bootstrap (`transaction`).
COMMITS_ALLOWED = {"web/routing.py", "engine/db.py"}


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def test_no_route_is_an_async_endpoint_that_could_block(ctx: AppContext) -> None:
    app = create_app(ctx)
    routes = list(api_routes(app.routes))
    assert len(routes) > 50  # the JSON API and the pages
    # A transactional route's plain endpoint is wrapped in a coroutine that runs it in a thread (web/routing.py).
    endpoints = [inspect.unwrap(r.endpoint) for r in routes]
    async_endpoints = {f"{e.__module__}.{e.__name__}" for e in endpoints if inspect.iscoroutinefunction(e)}
    assert async_endpoints <= ASYNC_ENDPOINTS, f"make these plain `def`: {sorted(async_endpoints - ASYNC_ENDPOINTS)}"
    async_deps = {call for r in routes for call in _calls(r.dependant)
                  if inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(type(call).__call__)}
    assert async_deps <= ASYNC_DEPENDENCIES, f"make these plain `def`: {async_deps - ASYNC_DEPENDENCIES}"


def test_only_the_edges_commit() -> None:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            if re.search(r"\.commit\(", source):
                found.add(path.relative_to(ROOT).as_posix())
    assert found <= COMMITS_ALLOWED, f"commit at the edge only; flush here instead: {sorted(found - COMMITS_ALLOWED)}"
    assert found == COMMITS_ALLOWED  # the allow-list names real edges


def _all_subclasses(cls: type[DomainError]) -> Iterator[type[DomainError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_domain_error_names_a_problem_type_of_the_one_table() -> None:
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if ".migrations" not in info.name:
                importlib.import_module(info.name)
    errors = [cls for cls in _all_subclasses(DomainError) if cls is not ApiError]
    assert len(errors) > 20
    classes: list[type[DomainError]] = [DomainError, *errors]
    for cls in classes:
        assert cls.code in PROBLEM_TYPES, f"{cls.__module__}.{cls.__name__}.code = {cls.code!r} is not a problem type"
    for kind in PROBLEM_TYPES.values():  # the API's own errors name their type by the same code
        assert kind_of(ApiError(kind, "x")) is kind


def test_no_exception_class_reaches_the_edge_outside_the_root() -> None:
    """Errors raised on purpose derive from DomainError; other exceptions stay inside the engine."""
    # Internal signals that become incidents or retries, never an answer to a client.
    internal = {"DeliveryFailed", "SandboxViolation", "RoutingError", "EngineBudgetExceeded", "IsolationLimit",
                "UnknownOperation", "TimerValueError", "TemplateFailed", "TemplateProblem", "MissingAssets",
                # A connector's call refused or failed (an error reply, an incident or a retry) and an unusable
                # connectors.toml (lint problems, or an incident at run time): engine/connectors.
                "CallRefused", "CallFailed", "SpecInvalid"}
    pattern = re.compile(r"^class (\w+)\((?:Exception|ValueError|RuntimeError|LookupError|PermissionError)\)",
                         re.MULTILINE)
    roots = {name for package in PACKAGES for path in (ROOT / package).rglob("*.py")
             for name in pattern.findall(path.read_text(encoding="utf-8"))}
    assert roots <= internal | {"DomainError"}, sorted(roots - internal)
