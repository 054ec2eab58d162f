"""Browser tests: a real server on a fresh database, driven by Debian's Chromium through Playwright.

Each test module gets its own server and database (the catalogue deployed, demo accounts made),
so journeys that change the catalogue (the studio deploys a version) do not leak into others.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page, expect
from sqlalchemy import select

from api.app import create_app
from engine.context import AppContext, build_context
from engine.directory.actors import actor_for
from engine.models import User
from engine.settings import Settings
from tests.factories import APPROVED, DRAWINGS, PAID, SKRD, SPPST, Driver, make_user, pbg_application

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
PASSWORD = "demo12345"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium (never a downloaded one), headless, with no background traffic."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs it (tests/install_chromium.sh)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]}


@dataclass
class LiveServer:
    """A running platform: its base URL and the context behind it."""

    url: str
    ctx: AppContext


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                catalogue_template_db: Path) -> Iterator[LiveServer]:
    """Start the platform on a fresh SQLite database with the catalogue and demo accounts.

    The database is a copy of the session's catalogue template (tests/conftest.py: migrated, catalogue
    deployed, demo accounts seeded as `make run` does), so each module starts from the same state
    without deploying again. A test module that sets `EMBEDDED_WORKER = True` gets a job worker
    inside the server too (timers, issued documents, notifications), as `mpp serve` runs it.
    """
    folder = tmp_path_factory.mktemp("live")
    shutil.copy(catalogue_template_db, folder / "mpp.db")
    settings = Settings(database_url=f"sqlite:///{folder / 'mpp.db'}", files_dir=folder / "files",
                        outbox_dir=folder / "outbox", secret_key="browser-test-secret-" + "x" * 32,  # noqa: S106
                        signing_key_file=folder / "signing.key", worker_poll_s=0.2)
    ctx = build_context(settings)
    port = _free_port()
    app = create_app(ctx, embedded_worker=bool(getattr(request.module, "EMBEDDED_WORKER", False)))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", ctx)
    server.should_exit = True
    thread.join(timeout=10)
    ctx.engine.dispose()


@pytest.fixture
def login(live_server: LiveServer) -> Callable[[Page, str], None]:
    """Return a helper that logs a demo account in through the login form."""

    def do(page: Page, username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/masuk")
        page.get_by_label("Nama pengguna").fill(username)
        page.get_by_label("Kata sandi").fill(password)
        page.get_by_role("button", name="Masuk", exact=True).click()
        expect(page).not_to_have_url(f"{live_server.url}/masuk")

    return do


@pytest.fixture
def axe_check(live_server: LiveServer) -> Callable[..., None]:
    """Return a check that runs axe-core on the page and fails on serious or critical violations."""

    def check(page: Page, *, exclude: list[str] | None = None) -> None:
        page.add_script_tag(url=f"{live_server.url}/static/vendor/axe-core/axe.min.js")
        context = {"exclude": [[sel] for sel in exclude]} if exclude else None
        result = page.evaluate("([ctx]) => axe.run(ctx || document, {resultTypes: ['violations']})", [context])
        bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        report = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                   "nodes": [n["target"] for n in v["nodes"][:5]]} for v in bad]
        assert not bad, f"axe-core found serious/critical violations on {page.url}:\n{json.dumps(report, indent=1)}"

    return check


@pytest.fixture
def shot() -> Callable[[Page, str], Path]:
    """Return a helper that saves a full-page screenshot under tests/screenshots/ (gitignored)."""

    def take(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


WIDTHS = {"desktop": (1280, 900), "mobile": (390, 844)}


def at_both_widths(page: Page, name: str, axe_check: Callable[..., None], shot: Callable[[Page, str], Path]) -> None:
    """Run axe-core and take a screenshot at 1280 and 390 px (`<name>-desktop`, `<name>-mobile`); end at 1280."""
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        axe_check(page)
        shot(page, f"{name}-{label}")
    page.set_viewport_size({"width": 1280, "height": 900})


def accept_privacy_notice(page: Page) -> None:
    """Tick the privacy notice's box on an application form (portal/templates/_privacy_notice.html)."""
    page.get_by_role("checkbox", name=re.compile("menyetujui pemberitahuan privasi ini")).check()


def pbg_case_to(live: LiveServer, element_id: str) -> int:
    """File a PBG case as the demo applicant `warga` and complete its steps up to `element_id` (left open).

    Each step is completed by an officer made for this case; the jobs the steps queue (the bill) are run.
    """
    ctx = live.ctx
    with ctx.sessions() as session:
        applicant = actor_for(session, session.scalars(select(User).where(User.username == "warga")).one())
    d = Driver(ctx)
    case_id = d.start("pbg", pbg_application(), applicant, channel="daring").id
    steps: list[tuple[str, str, str | None, dict[str, Any]]] = [
        ("Task_kelengkapan", "dpmptsp.front_office", None, {"kelengkapan": "lengkap"}),
        ("Task_gambar_teknis", "konsultan.perencana", "konsultan_griya", DRAWINGS),
        ("Task_tpa", "pupr.tpa", None, APPROVED), ("Task_sppst", "pupr.teknis", None, SPPST),
        ("Task_skrd", "dpmptsp.back_office", None, SKRD), ("Task_pembayaran", "applicant", None, PAID),
        ("Task_verifikasi", "dpmptsp.kasir", None, {"pembayaran_valid": True})]
    for element, role, org, data in steps:
        if element == element_id:
            break
        who = applicant if role == "applicant" else make_user(ctx, f"c{case_id}_{element.lower()}", role, org=org)
        d.complete(case_id, element, who, data)
        d.run_jobs()
    return case_id
