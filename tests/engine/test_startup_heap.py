"""A server process puts what it built at start-up out of the garbage collector's reach, and still collects the rest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys, weakref
from pydantic import SecretStr
from engine.context import build_context, freeze_startup_heap
from engine.settings import Settings

ctx = build_context(Settings(database_url="sqlite:///" + sys.argv[1], secret_key=SecretStr("k" * 40),
                             files_dir=sys.argv[2]))
tracked = len(gc.get_objects())
freeze_startup_heap()
frozen, walked = gc.get_freeze_count(), len(gc.get_objects())

class Node:
    pass

made = Node()
made.me = made  # a cycle made after start-up: garbage once dropped, and collected
seen = weakref.ref(made)
del made
gc.collect()
print(tracked, frozen, walked, int(seen() is None))
"""


def test_start_up_objects_are_frozen_and_later_cycles_still_collected(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "mpp.db"), str(tmp_path / "files")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    tracked, frozen, walked, collected = map(int, done.stdout.split())
    assert frozen >= tracked // 2  # the start-up heap (modules, engine, runtime) is frozen
    assert walked < tracked // 10  # what a full collection still walks
    assert collected == 1  # the later cycle was collected
