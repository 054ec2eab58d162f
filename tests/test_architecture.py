"""docs/architecture.md stays true: its module map names every engine module, and only modules that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _engine_modules() -> set[str]:
    found = set()
    for path in (ROOT / "engine").rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in relative or path.name == "__init__.py":
            continue
        found.add(relative)
    return found


def test_the_module_map_names_every_engine_module() -> None:
    missing = sorted(m for m in _engine_modules() if f"`{m}`" not in DOC)
    assert missing == [], f"add these to the engine table of docs/architecture.md: {missing}"


def test_every_module_the_page_names_exists() -> None:
    named = set(re.findall(r"`((?:engine|api|web|admin|portal|forms)/[\w/]+\.py)`", DOC))
    gone = sorted(m for m in named if not (ROOT / m).exists())
    assert gone == [], f"docs/architecture.md names modules that do not exist: {gone}"
