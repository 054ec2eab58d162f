"""The assembled app's API routes, for tests that inspect routes and their dependency trees."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute


def api_routes(routes: list[BaseRoute]) -> Iterator[APIRoute]:
    """Yield every API route, those of included routers too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers as they are
        if included is not None:
            yield from api_routes(included.routes)
