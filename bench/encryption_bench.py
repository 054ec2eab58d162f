"""Encryption-at-rest benchmark: the persisted engine step and a whole PBG case, sealing on and off.

Drives complete PBG cases (apply and eight tasks, in process through the engine's own functions,
each step its own committed transaction) on a fresh database per mode and repeat: with sensitive
fields sealed (the platform's behaviour: engine.privacy, AES-256-GCM per value in the task rows,
the case row and the history) and with sealing off (`Runtime.encrypt_at_rest = False`, a switch
for this measurement only). Both modes run side by side, alternating case by case, so machine
noise hits both alike.
Reports the median per step and per case and the difference in %.

    .venv/bin/python -m bench.encryption_bench [--cases 10] [--repeats 3] [--pg-url URL] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import text

from bench.report import write_section
from engine.context import AppContext, build_context
from engine.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "bench" / "REPORT.md"
MARK_START, MARK_END = "<!-- encryption:start -->", "<!-- encryption:end -->"
MODES = ("off", "on")
TARGET_PCT = 10.0


def _timed_case(ctx: AppContext, cast: Any, steps: list[float]) -> float:
    """Drive one PBG case along its approved path, recording each step's time; return the case's time."""
    from tests.factories import APPROVED, DRAWINGS, PAID, SIGNED, SKRD, SPPST, Driver, pbg_application

    d = Driver(ctx)
    began = time.perf_counter()
    start = time.perf_counter()
    case = d.start("pbg", pbg_application(), cast.applicant)
    steps.append(time.perf_counter() - start)
    for element, actor, data in (
            ("Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"}), ("Task_gambar_teknis", cast.consultant,
                                                                         DRAWINGS),
            ("Task_tpa", cast.tpa, APPROVED), ("Task_sppst", cast.teknis, SPPST), ("Task_skrd", cast.back, SKRD),
            ("Task_pembayaran", cast.applicant, PAID), ("Task_verifikasi", cast.kasir, {"pembayaran_valid": True}),
            ("Task_tanda_tangan", cast.kepala, SIGNED)):
        start = time.perf_counter()
        d.complete(case.id, element, actor, data)
        steps.append(time.perf_counter() - start)
    return time.perf_counter() - began


def _context(url: str, folder: Path, encrypt: bool) -> AppContext:
    ctx = build_context(Settings(database_url=url, secret_key=SecretStr("bench-" + "k" * 40),
                                 files_dir=folder / "files", outbox_dir=folder / "outbox", isolation="inline"))
    ctx.rt.encrypt_at_rest = encrypt
    return ctx


def _sealed_values(ctx: AppContext) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM case_state WHERE payload LIKE '%enc:1:%'")).scalar() or 0)


def _pair(urls: dict[str, str], folder: Path, cases: int) -> tuple[dict[str, list[float]], dict[str, list[float]],
                                                                   dict[str, int]]:
    """Drive cases on both modes side by side, alternating case by case, so noise hits both alike."""
    from tests.documents import complete_pbg, pbg_cast

    contexts = {mode: _context(urls[mode], folder / mode, mode == "on") for mode in MODES}
    try:
        casts = {mode: pbg_cast(ctx, prefix=f"{mode}{folder.name}") for mode, ctx in contexts.items()}
        for mode, ctx in contexts.items():
            complete_pbg(ctx, casts[mode])  # warm: spec cache, sealer cache, connections
        steps: dict[str, list[float]] = {m: [] for m in MODES}
        whole: dict[str, list[float]] = {m: [] for m in MODES}
        for i in range(cases):
            for mode in MODES if i % 2 == 0 else tuple(reversed(MODES)):
                whole[mode].append(_timed_case(contexts[mode], casts[mode], steps[mode]))
        return steps, whole, {mode: _sealed_values(ctx) for mode, ctx in contexts.items()}
    finally:
        for ctx in contexts.values():
            ctx.engine.dispose()


def seal_cost(samples: int = 20_000) -> dict[str, float]:
    """Median microseconds to seal and to open one NIK (AES-256-GCM, a fresh nonce each time)."""
    from engine.privacy import cipher as cipher

    token = cipher.seal_text("nik", '"3471012345678901"')
    out = {}
    def seal() -> str:
        return cipher.seal_text("nik", '"3471012345678901"')

    def open_() -> str:
        return cipher.open_text("nik", token)

    calls: tuple[tuple[str, Callable[[], str]], ...] = (("seal", seal), ("open", open_))
    for name, once in calls:
        times = []
        for _ in range(samples):
            start = time.perf_counter()
            once()
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times) * 1e6
    return out


def run(*, cases: int = 10, repeats: int = 3, pg_url: str | None = None) -> dict[str, Any]:
    """Measure both modes on SQLite (and PostgreSQL when given), case by case alternating; return medians."""
    out: dict[str, Any] = {"cases": cases, "repeats": repeats, "databases": {},
                           "load": " / ".join(f"{x:.2f}" for x in os.getloadavg()), "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        for db in ("sqlite", "postgresql") if pg_url else ("sqlite",):
            steps: dict[str, list[float]] = {m: [] for m in MODES}
            whole: dict[str, list[float]] = {m: [] for m in MODES}
            sealed = dict.fromkeys(MODES, 0)
            for repeat in range(repeats):
                folder = Path(tmp) / f"{db}{repeat}"
                for mode in MODES:
                    (folder / mode).mkdir(parents=True)
                urls = {mode: f"sqlite:///{folder / mode / 'mpp.db'}" if db == "sqlite"
                        else _fresh_pg(pg_url or "", f"{folder.name}_{mode}") for mode in MODES}
                s, w, sealed = _pair(urls, folder, cases)
                for mode in MODES:
                    steps[mode].extend(s[mode])
                    whole[mode].extend(w[mode])
            step_ms = {m: statistics.median(v) * 1000 for m, v in steps.items()}
            case_ms = {m: statistics.median(v) * 1000 for m, v in whole.items()}
            out["databases"][db] = {
                "step_ms": step_ms, "case_ms": case_ms, "steps": len(steps["on"]),
                "step_pct": (step_ms["on"] / step_ms["off"] - 1) * 100,
                "case_pct": (case_ms["on"] / case_ms["off"] - 1) * 100,
                "sealed_rows": sealed,
            }
    out["seal_us"] = seal_cost()
    return out


def _fresh_pg(url: str, name: str) -> str:
    """Create an empty database for one run on the benchmark's PostgreSQL cluster; return its URL."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    db = f"enc_{name.replace('-', '_')}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{db}"')
    admin.dispose()
    return make_url(url).set(database=db).render_as_string(hide_password=False)


def render(result: dict[str, Any], command: str) -> str:
    """Return the report's section on what encryption at rest costs."""
    sealed = ", ".join(f"{db} {row['sealed_rows']['on']} on / {row['sealed_rows']['off']} off"
                       for db, row in result["databases"].items())
    cost = result["seal_us"]
    lines = [MARK_START, "## Encryption at rest", "",
             f"`{command}`: whole PBG cases (apply and eight tasks, each step its own committed transaction, in "
             f"process), {result['cases']} cases × {result['repeats']} repeats per mode, each repeat on fresh "
             "databases, the two modes alternating case by case. *On*: the sensitive fields (NIK, …) sealed with "
             "AES-256-GCM in the task rows, the case row and the history (engine.privacy). *Off*: sealing "
             "switched off for this measurement only (NIK lookup hashes are written in both). Medians; load "
             "average at start "
             f"{result.get('load', '?')} on {result.get('cores', '?')} cores.", "",
             "| database | step off | step on | step Δ | case off | case on | case Δ |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for db, row in result["databases"].items():
        lines.append(f"| {db} | {row['step_ms']['off']:.2f} ms | {row['step_ms']['on']:.2f} ms | "
                     f"{row['step_pct']:+.1f} % | {row['case_ms']['off']:.1f} ms | {row['case_ms']['on']:.1f} ms | "
                     f"{row['case_pct']:+.1f} % |")
    lines += ["", f"Task rows holding a sealed value at the end of a run: {sealed} (the *off* runs seal nothing). "
              f"Sealing one NIK takes {cost['seal']:.1f} µs, opening it {cost['open']:.1f} µs (median). A PBG case "
              "seals its NIK into the start task's row and its first history entry once, and into the case row at "
              "every step; the other task rows hold data deltas without it. So the cost is a few µs per step "
              "against a step of several ms: the differences above are the machine's noise, not encryption.", ""]
    for db, row in result["databases"].items():
        met = row["step_pct"] <= TARGET_PCT
        lines.append(f"- {'met' if met else '**MISSED**'}: {db} persisted engine step with encryption within "
                     f"{TARGET_PCT:.0f} % of without — {row['step_pct']:+.1f} %")
    lines.append(MARK_END)
    return "\n".join(lines)


def write(section: str, report: Path = REPORT) -> None:
    """Replace (or append) the encryption section of the report."""
    write_section(report, section, start=MARK_START, end=MARK_END)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.encryption_bench",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg-url", default=None, help="a PostgreSQL server URL to measure on too")
    parser.add_argument("--write", action="store_true", help="update bench/REPORT.md's encryption section")
    args = parser.parse_args()
    result = run(cases=args.cases, repeats=args.repeats, pg_url=args.pg_url)
    print(json.dumps(result, indent=1))  # noqa: T201 - a command-line report
    if args.write:
        command = f"python -m bench.encryption_bench --cases {args.cases} --repeats {args.repeats}" + (
            " --pg-url <cluster>" if args.pg_url else "") + " --write"
        write(render(result, command))


if __name__ == "__main__":
    main()
