"""Lint time per catalogue package: `python -m bench.lint_bench [--repeats N] [--write]`.

Each package is linted from its files (the meta-schema check of forms is cached by content, as a
redeploy sees it, so the first run is reported apart as "cold"). The largest package, by the size
of its files, carries the target: lint under 0.5 s. With --write, the "Lint" section of
bench/REPORT.md is replaced (or added) without touching the other sections.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MARK_START, MARK_END = "<!-- lint:start -->", "<!-- lint:end -->"
TARGET_S = 0.5


def run(repeats: int = 5) -> dict[str, Any]:
    """Lint every catalogue package `repeats` times; return cold and warm timings per package."""
    from engine.catalogue.package import from_path
    from engine.lint.service import lint_package

    rows: list[dict[str, Any]] = []
    for folder in sorted(p for p in (ROOT / "processes").iterdir() if (p / "service.toml").exists()):
        package = from_path(folder)
        size = sum(len(content) for content in package.files.values())
        began = time.perf_counter()
        problems = lint_package(package)
        cold = time.perf_counter() - began
        warm = []
        for _ in range(repeats):
            began = time.perf_counter()
            lint_package(package)
            warm.append(time.perf_counter() - began)
        rows.append({"package": folder.name, "files": len(package.files), "bytes": size, "problems": len(problems),
                     "cold_s": cold, "median_s": statistics.median(warm), "max_s": max(warm)})
    largest = max(rows, key=lambda r: r["bytes"])
    return {"repeats": repeats, "rows": rows, "largest": largest["package"],
            "met": largest["median_s"] < TARGET_S}


def render(result: dict[str, Any]) -> str:
    """Return the report section as Markdown, between its markers."""
    lines = [MARK_START, "## Lint", "",
             f"`python -m bench.lint_bench --repeats {result['repeats']}`: lint of each catalogue package, all "
             "rules (data flow, roles, diagrams, templates rendered, SpiffWorkflow's parser). Cold = first lint in "
             "the process (imports, form meta-schema checks); median and max of the warm runs.", "",
             "| package | files | KiB | cold | median | max |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in sorted(result["rows"], key=lambda r: -r["bytes"]):
        mark = " (largest)" if r["package"] == result["largest"] else ""
        lines.append(f"| {r['package']}{mark} | {r['files']} | {r['bytes'] / 1024:.0f} | {r['cold_s'] * 1000:.0f} ms "
                     f"| {r['median_s'] * 1000:.0f} ms | {r['max_s'] * 1000:.0f} ms |")
    verdict = "met" if result["met"] else "**MISSED**"
    lines += ["", f"- {verdict}: lint of the largest package ({result['largest']}) under {TARGET_S} s", MARK_END]
    return "\n".join(lines)


def write(section: str, report: Path) -> None:
    """Replace the lint section of the report, or append it."""
    text = report.read_text() if report.exists() else ""
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        text = head + section + rest.split(MARK_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    report.write_text(text)


def main(argv: list[str] | None = None) -> int:
    """Run the lint benchmark and print (and optionally write) its section."""
    parser = argparse.ArgumentParser(prog="python -m bench.lint_bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update the Lint section of bench/REPORT.md")
    args = parser.parse_args(argv)
    section = render(run(args.repeats))
    print(section)
    if args.write:
        write(section, ROOT / "bench" / "REPORT.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
