"""The machine's processes as /proc shows them: who is whose parent (for the benches' CPU accounting)."""

from __future__ import annotations

import contextlib
from pathlib import Path


def parents() -> dict[int, int]:
    """Return every running process's id mapped to its parent's id."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):  # ended while we looked
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    return found


def children(pid: int) -> list[int]:
    """Return the ids of the processes whose parent is `pid`."""
    return [child for child, parent in parents().items() if parent == pid]
