"""What an isolated worker process sees, in a module light enough to import within a call's time limit.

A worker runs a function by importing its module; a test module pulls in the whole engine, whose
import alone can outlast the limit on a busy machine.
"""

from __future__ import annotations

import os


def environment() -> dict[str, str]:
    """Return the worker's environment variables."""
    return dict(os.environ)


def meet(folder: str, count: int, timeout_s: float = 10.0) -> tuple[int, bool]:
    """Wait until `count` calls are in here at once (each leaves a file in `folder`); return the caller's parent
    process (the render server that forked it) and whether they all met before the timeout."""
    import time
    from pathlib import Path

    (Path(folder) / str(os.getpid())).touch()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(list(Path(folder).iterdir())) >= count:
            return os.getppid(), True
        time.sleep(0.01)
    return os.getppid(), False
