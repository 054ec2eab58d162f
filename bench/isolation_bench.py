"""Isolation benchmark: what running package code in worker processes costs a whole case.

Drives complete PBG cases (apply and eight tasks, in-process through the engine's own functions,
committed, on a fresh SQLite file) twice: with isolation (`engine.isolation`: scripts and
non-trivial expressions in a worker process) and inline (everything in the caller's process under
the language guards only, `MPP_ISOLATION=inline`, the behaviour before isolation). Reports the
median time per case and per engine step, how many runs went to a worker, and one round trip.

    .venv/bin/python -m bench.isolation_bench [--cases 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from engine import isolation
from engine.bpmn import sandbox
from engine.context import build_context
from engine.settings import Settings

TASKS_PER_CASE = 9  # apply + eight completed tasks


def _cases(folder: Path, cases: int, mode: str) -> tuple[list[float], int]:
    from tests.documents import complete_pbg, pbg_cast

    os.environ["MPP_ISOLATION"] = mode
    calls = 0
    real = isolation.Pool.call

    def counted(self: isolation.Pool, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(self, *args, **kwargs)

    isolation.Pool.call = counted  # type: ignore[method-assign]
    try:
        ctx = build_context(Settings(database_url=f"sqlite:///{folder / f'{mode}.db'}",
                                     secret_key=SecretStr("bench-" + "k" * 40), files_dir=folder / "files"))
        cast = pbg_cast(ctx, prefix=mode)
        complete_pbg(ctx, cast)  # warm: spec cache, worker start
        calls = 0
        times = []
        for _ in range(cases):
            start = time.perf_counter()
            complete_pbg(ctx, cast)
            times.append(time.perf_counter() - start)
        ctx.engine.dispose()
        return times, calls
    finally:
        isolation.Pool.call = real  # type: ignore[method-assign]
        os.environ.pop("MPP_ISOLATION", None)


def round_trip(samples: int = 2000) -> dict[str, float]:
    """Median microseconds of one expression evaluated in a worker, and in process, on small task data."""
    data = {"nama": "Budi", "luas": 120, "fungsi": "hunian", "lantai": [1, 2, 3]}
    limits = sandbox.Limits()
    def in_worker() -> object:
        return sandbox._in_worker(sandbox.isolated_evaluate, "sum(lantai) > luas", data, limits, None, None)

    def in_process() -> object:
        return sandbox.evaluate("sum(lantai) > luas", data, limits=limits)

    out = {}
    for name, once in (("worker", in_worker), ("in_process", in_process)):
        once()
        times = []
        for _ in range(samples):
            start = time.perf_counter()
            once()
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times) * 1e6
    return out


def run(*, cases: int = 20, repeats: int = 3) -> dict[str, Any]:
    """Measure both modes, alternating, `repeats` times; return medians."""
    results: dict[str, list[float]] = {"process": [], "inline": []}
    calls = {"process": 0, "inline": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(repeats):
            for mode in ("inline", "process"):
                folder = Path(tmp) / f"{mode}{repeat}"
                folder.mkdir()
                times, calls[mode] = _cases(folder, cases, mode)
                results[mode].extend(times)
    per_case = {mode: statistics.median(times) * 1000 for mode, times in results.items()}
    return {
        "cases": cases * repeats,
        "ms_per_case": per_case,
        "ms_per_step": {mode: value / TASKS_PER_CASE for mode, value in per_case.items()},
        "worker_calls_per_case": calls["process"] / cases,
        "overhead_pct": (per_case["process"] / per_case["inline"] - 1) * 100,
        "round_trip_us": round_trip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(cases=args.cases, repeats=args.repeats), indent=1))


if __name__ == "__main__":
    main()
