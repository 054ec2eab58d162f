"""ASGI entry point for servers that import the app themselves (uvicorn workers, gunicorn).

    uvicorn --factory api.asgi:create_from_env --workers 4

The database must already be migrated (`mpp migrate`): several processes starting at once must
not race to upgrade the schema.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from api.app import create_app
from engine.context import build_context, freeze_startup_heap
from engine.settings import get_settings


def create_from_env() -> FastAPI:
    """Build the app from MPP_* settings; MPP_EMBEDDED_WORKER=0 leaves jobs to `mpp worker` processes."""
    embedded = os.environ.get("MPP_EMBEDDED_WORKER", "1") not in ("0", "false", "no")
    app = create_app(build_context(get_settings(), migrate=False), embedded_worker=embedded)
    freeze_startup_heap()  # one app per server process: what it built lives as long as the process
    return app
