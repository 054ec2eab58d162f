"""The log scan: no NIK a test used may reach a log (issue 20, UU 27/2022). A pytest plugin (tests/conftest.py).

What is captured. Every pytest process (the one process, or each pytest-xdist worker) attaches a
handler to the root logger at session start that writes every record of every logger to
`<basetemp>/mpp-logs.txt`: the platform's loggers (`mpp.*`) at DEBUG, every other logger at INFO
(what `mpp serve` lets through), with the levels `api.logs.logging_config` gives third-party
loggers in production (SpiffWorkflow, httpx); uvicorn's loggers, which stop propagating once a
server in a thread configured them, get the handler too. The handler is put back before each test,
since a test may configure logging itself. Writing a line per record to a local file costs
microseconds; the scan reads the files once, at the end. The `mpp serve` processes tests start write their stdout and
stderr to `serve.log` (tests/live.py) or `stderr.log` in the test's temporary folder, which is
under the same basetemp.

What is looked for. "The NIKs the tests used": every 16-digit number in the files of tests/ and
processes/*/tests/ (sources, scenario TOML, fixtures) that starts with an Indonesian province code
(11 to 96), a NIK's shape; other 16-digit numbers (a virtual account, 2**53 + 1) are not NIKs.
A masked NIK (3471********0001) is no longer 16 digits and passes.

When. At the end of the session the controlling process (under xdist: the controller, after every
worker ended) reads every capture file and server log under its basetemp; a NIK found fails the run
with the NIK, the file, the logger and the line.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CAPTURE = "mpp-logs.txt"
SERVER_LOGS = ("serve.log", "stderr.log")
SIXTEEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")
PROVINCES = frozenset({11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64,
                       65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96})
TEXT_SUFFIXES = (".py", ".toml", ".json", ".txt", ".csv", ".bpmn", ".dmn", ".html", ".md")
PLATFORM_LOGGER = "mpp"
UVICORN = ("uvicorn", "uvicorn.access")
FORMAT = "%(name)s %(levelname)s %(message)s"
MAX_REPORTED = 20
_handler_key = pytest.StashKey[logging.Handler]()
_hits_key = pytest.StashKey[list["Hit"]]()


@dataclass(frozen=True)
class Hit:
    """A test NIK found in a log: which, where, and the line."""

    nik: str
    file: Path
    line_number: int
    line: str

    def render(self, base: Path) -> str:
        """Return one line for the report: the NIK, the file:line (and so the logger) and the line."""
        where = self.file.relative_to(base) if self.file.is_relative_to(base) else self.file
        return f"NIK {self.nik} in {where}:{self.line_number}: {self.line.strip()[:300]}"


def looks_like_nik(number: str) -> bool:
    """Tell whether a 16-digit number has a NIK's shape (a province code first)."""
    return len(number) == 16 and number.isdigit() and int(number[:2]) in PROVINCES


def used_niks(root: Path = ROOT) -> frozenset[str]:
    """Return every NIK-shaped number in the tests' and the packages' scenario files."""
    folders = [root / "tests", *sorted((root / "processes").glob("*/tests"))]
    found: set[str] = set()
    for folder in folders:
        for path in folder.rglob("*"):
            if path.suffix in TEXT_SUFFIXES and path.is_file():
                text = path.read_text("utf-8", errors="replace")
                found.update(n for n in SIXTEEN_DIGITS.findall(text) if looks_like_nik(n))
    return frozenset(found)


def scan(paths: list[Path], niks: frozenset[str]) -> list[Hit]:
    """Return every line of these files that holds one of the NIKs."""
    hits: list[Hit] = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                hits += [Hit(n, path, number, line) for n in SIXTEEN_DIGITS.findall(line) if n in niks]
    return hits


def log_files(base: Path) -> list[Path]:
    """Return the capture files of every pytest process and the server logs under a basetemp."""
    return sorted(p for name in (CAPTURE, *SERVER_LOGS) for p in base.rglob(name) if p.is_file())


def _basetemp(config: pytest.Config) -> Path:
    factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]  # noqa: SLF001
    return factory.getbasetemp()


def _attach(config: pytest.Config) -> None:
    from api.logs import logging_config

    handler = config.stash[_handler_key]
    # uvicorn's own loggers do not propagate to the root once a server in a thread configured them.
    for logger in (logging.getLogger(), *(logging.getLogger(name) for name in UVICORN)):
        if handler not in logger.handlers:
            logger.addHandler(handler)
    root = logging.getLogger()
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    logging.getLogger(PLATFORM_LOGGER).setLevel(logging.DEBUG)
    for name, settings in logging_config()["loggers"].items():
        if "level" in settings:
            logging.getLogger(name).setLevel(settings["level"])


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start writing every log record of this process to its capture file."""
    path = _basetemp(session.config) / CAPTURE
    handler = logging.FileHandler(path, mode="a", encoding="utf-8", delay=False)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(FORMAT))
    session.config.stash[_handler_key] = handler
    _attach(session.config)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Put the capture handler back if a test configured logging (dictConfig replaces root's handlers)."""
    _attach(item.config)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Scan every log of the run for the tests' NIKs (in the controlling process only) and fail on a hit."""
    handler = session.config.stash.get(_handler_key, None)
    if handler is not None:
        for logger in (logging.getLogger(), *(logging.getLogger(name) for name in UVICORN)):
            logger.removeHandler(handler)
        handler.close()
    if hasattr(session.config, "workerinput") or os.environ.get("MPP_LOG_SCAN") == "off":
        return  # a worker: the controller scans once every worker has ended
    hits = scan(log_files(_basetemp(session.config)), used_niks())
    session.config.stash[_hits_key] = hits
    if hits and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Report the NIKs found in the logs, if any."""
    hits = config.stash.get(_hits_key, [])
    if not hits:
        return
    base = _basetemp(config)
    terminalreporter.section("personal data in the logs", sep="=", red=True, bold=True)
    terminalreporter.line(f"{len(hits)} log line(s) carry a NIK the tests used (UU PDP: personal data never reaches "
                          "logs; log an id or forms.personal.mask(...) instead):", red=True)
    for hit in hits[:MAX_REPORTED]:
        terminalreporter.line("  " + hit.render(base))
    if len(hits) > MAX_REPORTED:
        terminalreporter.line(f"  ... and {len(hits) - MAX_REPORTED} more (files under {base})")
