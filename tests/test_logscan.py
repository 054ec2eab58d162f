"""The log scan finds a test NIK in a log line, and the platform's log format masks one that slips through.

The scan itself runs at the end of every session (tests/logscan.py). Records here are formatted, not
emitted: a NIK logged for real would (rightly) fail the run.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from api.logs import JsonFormatter, logging_config
from tests.logscan import log_files, looks_like_nik, scan, used_niks

NIK = "3471012345678901"


def test_the_niks_the_tests_use_are_collected_from_tests_and_package_scenarios() -> None:
    niks = used_niks()
    assert NIK in niks  # tests/factories.py
    assert "3471010101800001" in niks  # tests/browser/test_pbg_journey.py
    assert "9007199254740993" not in niks  # 2**53 + 1 in a JSON test: not a NIK's shape
    assert all(looks_like_nik(n) for n in niks)


def test_the_scan_reports_nik_file_and_line_and_passes_masked_values(tmp_path: Path) -> None:
    log = tmp_path / "probe.txt"
    log.write_text("mpp.jobs INFO job 7 done\n"
                   f"mpp.connectors WARNING call for {NIK} failed\n"
                   "mpp.api INFO search 3471********8901\n"
                   f"mpp.api INFO va 8{NIK}\n", encoding="utf-8")  # 17 digits: not this NIK
    [hit] = scan([log], frozenset({NIK}))
    assert (hit.nik, hit.line_number) == (NIK, 2)
    assert hit.render(tmp_path) == f"NIK {NIK} in probe.txt:2: mpp.connectors WARNING call for {NIK} failed"


def test_the_scan_reads_every_process_capture_and_server_log(tmp_path: Path) -> None:
    for name in ("popen-gw0/mpp-logs.txt", "popen-gw1/mpp-logs.txt", "popen-gw0/t0/live/serve.log",
                 "t1/stderr.log", "t2/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    assert [p.relative_to(tmp_path).as_posix() for p in log_files(tmp_path)] == [
        "popen-gw0/mpp-logs.txt", "popen-gw0/t0/live/serve.log", "popen-gw1/mpp-logs.txt", "t1/stderr.log"]


def test_the_json_log_format_masks_a_nik_in_a_message_and_a_traceback() -> None:
    try:
        raise ValueError(f"no record for {NIK}")
    except ValueError:
        record = logging.LogRecord("mpp.jobs", logging.ERROR, __file__, 1, "job %s failed: %s", (7, NIK),
                                   sys.exc_info())
    line = JsonFormatter().format(record)
    assert NIK not in line
    doc = json.loads(line)
    assert doc["message"] == "job 7 failed: 3471********8901"
    assert "no record for 3471********8901" in doc["exc_info"]


def test_production_logging_keeps_httpx_request_urls_out() -> None:
    # A partner's path may carry a NIK (/peserta/{nik}): httpx logs each URL at INFO.
    loggers = logging_config()["loggers"]
    assert loggers["httpx"]["level"] == "WARNING"
    assert loggers["httpcore"]["level"] == "WARNING"
