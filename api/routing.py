"""API routers: transactional routes that document their problem responses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.errors import PROBLEM_RESPONSES
from web.routing import SESSION, TransactionalRoute

__all__ = ["SESSION", "TransactionalRoute", "router"]


def router(**kwargs: Any) -> APIRouter:
    """Return an API router whose routes are transactional and document their problem responses."""
    return APIRouter(route_class=TransactionalRoute, responses=PROBLEM_RESPONSES, **kwargs)
