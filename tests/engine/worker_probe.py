"""What an isolated worker process sees, in a module light enough to import within a call's time limit.

A worker runs a function by importing its module; a test module pulls in the whole engine, whose
import alone can outlast the limit on a busy machine.
"""

from __future__ import annotations

import os


def environment() -> dict[str, str]:
    """Return the worker's environment variables."""
    return dict(os.environ)
