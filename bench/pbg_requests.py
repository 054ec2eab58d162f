"""Requests per PBG case over the API (issue 18): whole cases driven the way a client would, counted.

Four ways of driving the same approved PBG case (apply and eight tasks, `rumah_mbr` false):

- `before`: each officer reads their inbox to find the task, claims it, completes it (the path
  before completions answered `next_tasks`).
- `lean`: the way a client works now. A completion claims an unclaimed task itself and answers
  the case's next tasks for the caller (`next_tasks`); only when the next task is another user's
  does that user's client read the inbox once, filtered to the case (`GET /api/tasks?case_id=`).
  PBG passes from hand to hand (front office, consultant, expert panel, public works, back office,
  the applicant's payment, cashier, head of office), so every task costs that read.
- `feed`: as `lean`, but each user's client holds one task feed (`GET /api/tasks/feed`, Server-Sent
  Events), opened before the cases like the login and not counted per case, and learns the task
  another user's completion made for it from the feed instead of the inbox.
- `one_desk`: the floor: a walk-in case filed by one officer who holds every role of the path (the
  filer acts for a walk-in applicant), so every next task is the caller's own and comes with the
  previous answer. Not how an office is staffed; it shows what the path costs when nobody changes.

Each user logs in once before the cases (not counted); file uploads (the two documents filed with
the application, the consultant's three drawings) are counted apart. `python -m bench.pbg_requests`
runs it against `mpp serve` on SQLite and prints the figures (`--write`: into bench/REPORT.md);
`make bench` runs it as its `requests` section.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.http_client import Http
from bench.report import write_section

MODES = ("before", "lean", "feed", "one_desk")
REPORT = Path(__file__).resolve().parent / "REPORT.md"
MARK_START, MARK_END = "<!-- requests:start -->", "<!-- requests:end -->"
TARGET = 10
FEED_WAIT_S = 60.0  # a bound on waiting for a task from the feed
APPLICANT = "warga"
DESK = "loket_tunggal"  # the one_desk officer, made by `make_desk`
PASSWORD = "demo12345"  # noqa: S105 - the demo accounts' password (api/bootstrap.py)


def _steps() -> list[tuple[str, str, dict[str, Any]]]:
    """Return PBG's approved path: (demo account, task element, form data); drawings get uploads later."""
    from tests.factories import APPROVED, PAID, SIGNED, SKRD, SPPST

    return [("dpmptsp_front_office", "Task_kelengkapan", {"kelengkapan": "lengkap"}),
            ("konsultan_griya_perencana", "Task_gambar_teknis", {}),
            ("pupr_tpa", "Task_tpa", APPROVED), ("pupr_teknis", "Task_sppst", SPPST),
            ("dpmptsp_back_office", "Task_skrd", SKRD), (APPLICANT, "Task_pembayaran", PAID),
            ("dpmptsp_kasir", "Task_verifikasi", {"pembayaran_valid": True}),
            ("dpmptsp_kepala", "Task_tanda_tangan", SIGNED)]


def users(mode: str) -> list[str]:
    """Return the accounts a mode logs in (once each)."""
    return [DESK] if mode == "one_desk" else sorted({user for user, _, _ in _steps()} | {APPLICANT})


@dataclass
class Tally:
    """The requests one case took, by kind (`apply`, `find`, `claim`, `complete`), and its uploads."""

    requests: Counter[str] = field(default_factory=Counter)
    uploads: int = 0

    @property
    def total(self) -> int:
        """Return the requests of the case, uploads and logins not included."""
        return sum(self.requests.values())


class Client:
    """An HTTP client with each user's token (logged in once), counting what it sends for a case."""

    def __init__(self, http: Http, tokens: dict[str, str]) -> None:
        self.http, self.tokens, self.tally = http, tokens, Tally()

    def call(self, kind: str, method: str, url: str, user: str, **kwargs: Any) -> Any:
        """Send one counted request as `user`; fail loudly on anything but a 2xx answer."""
        self.tally.requests[kind] += 1
        response = self.http.request(method, url, headers={"Authorization": f"Bearer {self.tokens[user]}"}, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {url} as {user}: {response.status_code} {response.text[:500]}")
        return response.json()

    def upload(self, user: str, name: str) -> str:
        """Upload a small PDF as `user` (counted apart); return its reference."""
        from tests.factories import PDF

        self.tally.uploads += 1
        response = self.http.post("/api/files", files={"file": (name, PDF, "application/pdf")},
                                  headers={"Authorization": f"Bearer {self.tokens[user]}"})
        if response.status_code != 201:
            raise RuntimeError(f"upload as {user}: {response.status_code} {response.text[:500]}")
        return str(response.json()["ref"])


def login(http: Http, names: list[str]) -> dict[str, str]:
    """Log each user in once; return their tokens."""
    tokens = {}
    for name in names:
        response = http.post("/api/auth/token", data={"username": name, "password": PASSWORD})
        if response.status_code != 200:
            raise RuntimeError(f"login {name}: {response.status_code} {response.text[:300]}")
        tokens[name] = str(response.json()["access_token"])
    return tokens


def make_desk(http: Http, admin_token: str) -> None:
    """Create the one_desk officer holding every role of PBG's path (the consultant's in its firm)."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    made = http.post("/api/users", json={"username": DESK, "password": PASSWORD, "platform_role": "officer"},
                     headers=admin)
    if made.status_code != 201:
        raise RuntimeError(f"create {DESK}: {made.status_code} {made.text[:300]}")
    for role, org in (("dpmptsp.front_office", None), ("konsultan.perencana", "konsultan_griya"),
                      ("pupr.tpa", None), ("pupr.teknis", None), ("dpmptsp.back_office", None),
                      ("dpmptsp.kasir", None), ("dpmptsp.kepala", None)):
        granted = http.post(f"/api/users/{made.json()['id']}/memberships",
                            json={"role_key": role, "organisation_code": org}, headers=admin)
        if granted.status_code != 201:
            raise RuntimeError(f"grant {role}: {granted.status_code} {granted.text[:300]}")


def sse_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Yield the events of a Server-Sent Events stream as {"event", "id", "data"} (data parsed as JSON)."""
    event: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "event" in event:
                yield event
            event = {}
        elif line.startswith(("id:", "event:", "data:")):
            key, _, value = line.partition(":")
            event[key] = json.loads(value) if key == "data" else value.strip()


class TaskFeed:
    """One user's client's task feed, read in a thread: the tasks it was told of, by (case, element)."""

    def __init__(self, base: str, token: str) -> None:
        self._tasks: dict[tuple[int, str], str] = {}
        self._arrived: queue.Queue[None] = queue.Queue()
        self._ready = threading.Event()
        self._http = httpx.Client(base_url=base, timeout=httpx.Timeout(30, read=None))
        self._thread = threading.Thread(target=self._read, args=(token,), daemon=True, name="bench-feed")
        self._thread.start()
        if not self._ready.wait(FEED_WAIT_S):
            raise RuntimeError("the task feed did not open")

    def _read(self, token: str) -> None:
        try:
            with self._http.stream("GET", "/api/tasks/feed", headers={"Authorization": f"Bearer {token}"}) as answer:
                for event in sse_events(answer.iter_lines()):
                    if event["event"] == "ready":
                        self._ready.set()
                    elif event["event"] == "task":
                        task = event["data"]["task"]
                        self._tasks[(int(task["case_id"]), str(task["element_id"]))] = str(task["id"])
                        self._arrived.put(None)
        except httpx.HTTPError:
            pass  # closed

    def task(self, case_id: int, element: str) -> str:
        """Return the id of the case's `element` task once the feed told of it (bounded wait)."""
        while (case_id, element) not in self._tasks:
            try:
                self._arrived.get(timeout=FEED_WAIT_S)
            except queue.Empty:
                raise RuntimeError(f"the feed told of no {element} of case {case_id}") from None
        return self._tasks.pop((case_id, element))

    def close(self) -> None:
        """Hang up; the reading thread ends when the server next writes (a keep-alive) or stops, not waited for."""
        self._http.close()


def open_feeds(base: str, tokens: dict[str, str]) -> dict[str, TaskFeed]:
    """Open one task feed per user (as each user's client does once, after logging in)."""
    return {user: TaskFeed(base, token) for user, token in tokens.items()}


def drive_case(http: Http, tokens: dict[str, str], mode: str,
               feeds: dict[str, TaskFeed] | None = None) -> Tally:
    """Drive one PBG case to its signed approval in `mode`; return the requests it took.

    The `feed` mode needs each user's open feed (`open_feeds`).
    """
    from tests.factories import DRAWING_FIELDS, DRAWINGS, PBG_REQUIRED, pbg_application

    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
    if mode == "feed" and feeds is None:
        raise ValueError("the feed mode needs the users' feeds: open_feeds(base, tokens)")
    api = Client(http, tokens)
    filer = DESK if mode == "one_desk" else APPLICANT
    body = {"process_key": "pbg", "data": pbg_application(), "privacy_notice_accepted": True,
            "channel": "tatap_muka" if mode == "one_desk" else "daring",
            "documents": {code: [api.upload(filer, f"{code}.pdf")] for code in PBG_REQUIRED}}
    answer = api.call("apply", "POST", "/api/cases", filer, json=body)
    case_id, last_user = int(answer["id"]), filer
    for user, element, data in _steps():
        user = DESK if mode == "one_desk" else user
        if element == "Task_gambar_teknis":
            data = {**DRAWINGS, **{name: [api.upload(user, f"{name}.pdf")] for name in DRAWING_FIELDS}}
        offered = answer.get("next_tasks", []) if user == last_user else []
        if mode == "feed" and feeds is not None and not any(t["element_id"] == element for t in offered):
            task_id = feeds[user].task(case_id, element)
        else:
            task_id = _find(api, mode, user, case_id, element, offered)
        if mode == "before":
            api.call("claim", "POST", f"/api/tasks/{task_id}/claim", user)
        answer = api.call("complete", "POST", f"/api/tasks/{task_id}/complete", user, json={"data": data})
        last_user = user
    if answer["case_status"] != "completed":
        raise RuntimeError(f"case {case_id} ended {answer['case_status']}, not completed")
    return api.tally


def _find(api: Client, mode: str, user: str, case_id: int, element: str, offered: list[dict[str, Any]]) -> str:
    """Return the id of the case's open `element` task for `user`: from the last answer, else one inbox read."""
    if mode != "before":
        for task in offered:
            if task["element_id"] == element:
                return str(task["id"])
    # Before the case filter, a client read its inbox page and looked for the case in it.
    params: dict[str, Any] = {"process_key": "pbg"} if mode == "before" else {"case_id": case_id}
    page = api.call("find", "GET", "/api/tasks", user, params=params | {"limit": 200})
    for task in page["items"]:
        if task["case_id"] == case_id and task["element_id"] == element:
            return str(task["id"])
    raise RuntimeError(f"{user} finds no {element} of case {case_id} in the inbox")


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """Return the CPU time (user + system) a process has used so far, from /proc; `reaped`: with its ended children.

    A child's time joins its parent's once the parent has reaped it (the PDF render server's forks, for instance).
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(base: str, pid: int | None, *, cases: int) -> dict[str, Any]:
    """Drive `cases` PBG cases in each mode against the server at `base`; return requests and CPU per case."""
    out: dict[str, Any] = {"cases": cases, "modes": {}}
    with httpx.Client(base_url=base, timeout=60) as http:
        make_desk(http, login(http, ["admin"])["admin"])
        for mode in MODES:
            tokens = login(http, users(mode))
            feeds = open_feeds(base, tokens) if mode == "feed" else None
            try:
                drive_case(http, tokens, mode, feeds)  # warm: caches, connections; not counted
                before = cpu_seconds(pid) if pid else None
                tallies = [drive_case(http, tokens, mode, feeds) for _ in range(cases)]
                spent = (cpu_seconds(pid) - before) if pid and before is not None else None
            finally:
                for feed in (feeds or {}).values():
                    feed.close()
            kinds: Counter[str] = Counter()
            for tally in tallies:
                kinds.update(tally.requests)
            out["modes"][mode] = {
                "logins": len(tokens), "feeds": len(feeds or {}),
                "requests_per_case": sum(t.total for t in tallies) / cases,
                "by_kind": {kind: n / cases for kind, n in sorted(kinds.items())},
                "uploads_per_case": sum(t.uploads for t in tallies) / cases,
                "server_cpu_ms_per_case": round(spent * 1000 / cases, 1) if spent is not None else None}
    return out


def deploy_pbg(url: str) -> None:
    """Migrate the database at `url`, deploy PBG and create the demo accounts."""
    from pydantic import SecretStr

    from api.bootstrap import seed_demo
    from engine.catalogue import package, registry
    from engine.context import build_context
    from engine.db import transaction
    from engine.settings import Settings
    from tests.factories import PBG

    ctx = build_context(Settings(database_url=url, secret_key=SecretStr("bench-" + "k" * 40)))
    try:
        with transaction(ctx.sessions) as session:
            registry.deploy(session, package=package.from_path(PBG), actor="bench")
            seed_demo(session)
    finally:
        ctx.engine.dispose()


@contextmanager
def platform(folder: Path) -> Iterator[tuple[str, int]]:
    """Run `mpp serve` (one process, no job worker) on a fresh SQLite file with PBG and its demo accounts."""
    from tests.live import serve

    database = folder / "mpp.db"
    deploy_pbg(f"sqlite:///{database}")
    with serve(database, folder / "serve", database=database) as running:
        yield running.base, running.process.pid


def run(*, cases: int = 10, workdir: Path | None = None) -> dict[str, Any]:
    """Start a server on SQLite and measure every mode; return the figures."""
    folder = Path(workdir or tempfile.mkdtemp(prefix="mpp-bench-requests-"))
    folder.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    with platform(folder) as (base, pid):
        out = measure(base, pid, cases=cases)
    out["database"] = "sqlite"
    out["load_at_start"] = round(load, 2)
    return out


def render(result: dict[str, Any], command: str) -> str:
    """Return the report's section on requests per PBG case."""
    if "error" in result:
        return "\n".join([MARK_START, "## Requests per PBG case over the API", "",
                          f"Not measured: {result['error']}", MARK_END])
    modes = result["modes"]
    lines = [MARK_START, "## Requests per PBG case over the API", "",
             f"`{command}`: {result['cases']} whole PBG cases per way (apply and eight tasks, approved, "
             f"`rumah_mbr` false) over real HTTP against one `mpp serve` process on {result['database']}, after one "
             "warm-up case. Each user logs in once, before the cases (logins not counted); in the *feed* way each "
             "user's client also opens its one task feed then (`GET /api/tasks/feed`, not counted per case, like "
             "the login). Uploads (two documents at filing, three drawings) are counted apart. Server CPU: the "
             "`mpp serve` process's user + system time from /proc across the cases, divided by the cases (the "
             "client runs in another process; in the feed way it includes serving the open feeds). The "
             "*before* row is the old client pattern against today's server." + (
                 f" Load average at the start: {result['load_at_start']} on {os.cpu_count()} cores."
                 if "load_at_start" in result else ""), "",
             "| way | requests per case | of which: apply / find / claim / complete | uploads | server CPU per case |",
             "| --- | --- | --- | --- | --- |"]
    names = {"before": "before: inbox + claim + complete per task",
             "lean": "next_tasks only: one user per role (PBG as staffed)",
             "feed": "now: one user per role, each client with its task feed",
             "one_desk": "floor: one officer holds every role, walk-in"}
    for mode, m in modes.items():
        kinds = m["by_kind"]
        split = " / ".join(f"{kinds.get(k, 0):g}" for k in ("apply", "find", "claim", "complete"))
        cpu = f"{m['server_cpu_ms_per_case']:.0f} ms" if m["server_cpu_ms_per_case"] is not None else "?"
        lines.append(f"| {names.get(mode, mode)} | {m['requests_per_case']:g} | {split} | "
                     f"{m['uploads_per_case']:g} | {cpu} |")
    lines += ["", _verdict(modes.get("feed", {}), modes.get("lean", {})), MARK_END]
    return "\n".join(lines)


def write(section: str, report: Path = REPORT) -> None:
    """Replace (or add, before the findings) this section of the report."""
    write_section(report, section, start=MARK_START, end=MARK_END)


def verdict(result: dict[str, Any]) -> dict[str, Any] | None:
    """Return the target's verdict for the report's list (as staffed: one user per role, with the task feed)."""
    modes = result.get("modes") or {}
    now = modes.get("feed")
    if not now:
        return None
    return {"what": f"requests per PBG case over the API ≤ {TARGET} (one user per role, each client with its task "
                    "feed; logins, feeds, uploads apart)",
            "met": now["requests_per_case"] <= TARGET,
            "measured": f"{now['requests_per_case']:g} (without the feed: "
                        f"{modes.get('lean', {}).get('requests_per_case', '?')}; floor with one user for every task: "
                        f"{modes.get('one_desk', {}).get('requests_per_case', '?')})"}


def _verdict(now: dict[str, Any], lean: dict[str, Any]) -> str:
    if not now:
        return ""
    met = now["requests_per_case"] <= TARGET
    finds = lean.get("by_kind", {}).get("find", 0)
    return (f"Target ≤ {TARGET} requests per case: **{'met' if met else 'missed'}** ({now['requests_per_case']:g} as "
            "staffed, with the task feed). A completion claims the task itself and answers the caller's next tasks "
            "of the case, so the claim requests and the inbox scans are gone; every PBG task belongs to another user "
            f"than the task before it, and without the feed that user's client read `GET /api/tasks?case_id=` once "
            f"per task ({finds:g} per case). With the feed (`GET /api/tasks/feed`, one Server-Sent Events stream "
            "per client, opened once like the login) the next user's client is told the task's id when the "
            "completion that made it commits, so a case is the application and the eight completions." + (
                f" The feeds are not free: server CPU per case {now['server_cpu_ms_per_case']:.0f} ms with them "
                f"against {lean['server_cpu_ms_per_case']:.0f} ms with the inbox reads (each commit that changes "
                "tasks wakes the process's poller, which reads the change log once for all its streams and "
                "hands each the events it concerns)."
                if now.get("server_cpu_ms_per_case") and lean.get("server_cpu_ms_per_case") else ""))


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.pbg_requests", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--write", action="store_true", help="update bench/REPORT.md's section")
    args = parser.parse_args(argv)
    result = run(cases=args.cases)
    print(json.dumps(result, indent=1))
    command = "python -m bench.pbg_requests" + (f" --cases {args.cases}" if args.cases != 10 else "") + (
        " --write" if args.write else "")
    section = render(result, command)
    print(section)
    if args.write:
        write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
