"""The `mpp` command line: lint, deploy, run cases and tasks by hand, serve, work, back up and restore."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from engine.catalogue import package as package
from engine.catalogue import registry as registry
from engine.errors import DomainError, PackageInvalid
from engine.lint.service import lint_package
from forms.validation import FormInvalid

app = typer.Typer(help="MPP: Mal Pelayanan Publik platform.", no_args_is_help=True, add_completion=False)


def _ctx() -> Any:
    from engine.context import get_context

    return get_context()


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _report_errors(exc: Exception) -> None:
    if isinstance(exc, PackageInvalid):
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        _fail(f"{len(exc.problems)} problem(s)")
    if isinstance(exc, FormInvalid):
        for error in exc.field_errors:
            typer.echo(f"  {error.path}: {error.message_en}", err=True)
        _fail("form data is invalid")
    _fail(str(exc))


@app.command()
def lint(
    paths: Annotated[list[Path], typer.Argument(help="package folders, .zip files or single .bpmn diagrams")],
    lang: Annotated[str, typer.Option("--lang", help="language of the messages: id (default) or en")] = "id",
) -> None:
    """Lint process packages and report every problem; exit 1 if any error.

    A bare .bpmn file is wrapped as a package with a generated service.toml (key = its first
    executable process) and only the diagram's own problems are shown: nothing about service.toml
    or about form files the diagram names but that are not beside it.
    """
    from engine.lint.foreign import diagram_package, diagram_problems

    if lang not in ("id", "en"):
        _fail("--lang must be id or en")
    errors = 0
    for path in paths:
        try:
            if path.is_file() and path.suffix == ".bpmn":
                problems = diagram_problems(lint_package(diagram_package(path.name, path.read_bytes())), path.name)
            else:
                problems = lint_package(package.from_path(path))
        except PackageInvalid as exc:
            problems = exc.problems
        for problem in problems:
            typer.echo(f"{path}: {problem.render(lang)}")
        errors += sum(1 for p in problems if p.severity == "error")
        if not problems:
            typer.echo(f"{path}: ok")
    if errors:
        _fail(f"{errors} error(s)")


@app.command()
def deploy(
    paths: Annotated[list[Path], typer.Argument(help="package folders or .zip files")],
    require_tests: Annotated[bool, typer.Option(
        "--require-tests", help="refuse a package whose scenario tests (tests/*.toml) fail, or that has none")] = False,
) -> None:
    """Lint and deploy packages as new versions (identical content creates no version)."""
    from engine.catalogue.scenarios import scenario_problems
    from engine.db import transaction

    ctx = _ctx()
    try:
        with transaction(ctx.sessions) as session:
            for path in paths:
                pkg = package.from_path(path)
                if require_tests and (failed := scenario_problems(
                        pkg, known_roles=registry.known_roles(session), settings=ctx.settings, require=True)):
                    raise PackageInvalid(failed)
                result = registry.deploy(session, package=pkg, actor="cli")
                state = "deployed" if result.created else "unchanged"
                typer.echo(f"{result.key}: version {result.version} ({state})")
                for role in result.new_roles:
                    typer.echo(f"  new role: {role}")
    except DomainError as exc:
        _report_errors(exc)


@app.command("test")
def run_tests(
    paths: Annotated[list[Path], typer.Argument(help="package folders or .zip files")],
    lang: Annotated[str, typer.Option("--lang", help="language of the messages: id (default) or en")] = "id",
    steps: Annotated[bool, typer.Option("--steps", help="also print what happened at each step")] = False,
    directory: Annotated[bool, typer.Option(
        "--directory", help="let packages use the roles the platform's directory holds (reads the database)")] = False,
) -> None:
    """Run the scenario tests (tests/*.toml) of packages, each on a throw-away copy; exit 1 if any fails."""
    from engine.catalogue import scenarios

    if lang not in ("id", "en"):
        _fail("--lang must be id or en")
    known = _directory_roles() if directory else None
    passed = failed = 0
    for path in paths:
        try:
            results = scenarios.run(package.from_path(path), known_roles=known)
        except PackageInvalid as exc:
            for problem in exc.problems:
                typer.echo(f"{path}: {problem.render(lang)}")
            failed += 1
            continue
        if not results:
            typer.echo(f"{path}: " + ("tidak ada skenario uji (tests/*.toml)" if lang == "id" else
                                       "no scenario tests (tests/*.toml)"))
        for result in results:
            _echo_result(path, result, lang, steps)
            passed, failed = passed + result.passed, failed + (not result.passed)
    summary = (f"{passed + failed} skenario: {passed} lulus, {failed} gagal" if lang == "id" else
               f"{passed + failed} scenario(s): {passed} passed, {failed} failed")
    if failed:
        _fail(summary)
    typer.echo(summary)


def _directory_roles() -> set[str]:
    ctx = _ctx()
    with ctx.sessions() as session:
        return registry.known_roles(session)


def _echo_result(path: Path, result: Any, lang: str, steps: bool) -> None:
    verdict = ("LULUS" if lang == "id" else "PASS") if result.passed else ("GAGAL" if lang == "id" else "FAIL")
    typer.echo(f"{verdict}  {path}/{result.file}: {result.name(lang)} ({result.seconds:.2f} s)")
    for problem in result.problems:
        typer.echo(f"      {problem.render(lang)}")
    if steps:
        from engine.catalogue.scenarios.format import WIB

        for entry in result.trace:
            when = entry.at.astimezone(WIB).strftime("%Y-%m-%d %H:%M")
            typer.echo(f"      {entry.step:>3}  {when}  {entry.text_id if lang == 'id' else entry.text_en}")


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    _ctx()
    typer.echo("database is up to date")


@app.command("create-admin")
def create_admin(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create the first administrator account."""
    from engine.db import transaction
    from engine.directory.accounts import hash_password
    from engine.directory.service import create_user

    ctx = _ctx()
    try:
        with transaction(ctx.sessions) as session:
            create_user(session, username=username, platform_role="admin", password_hash=hash_password(password))
    except DomainError as exc:
        _report_errors(exc)
    typer.echo(f"administrator '{username}' created")


@app.command()
def bootstrap() -> None:
    """Deploy the service catalogue in processes/ and create demo accounts; print who does each PBG step."""
    from api.bootstrap import deploy_folder, seed_demo
    from engine.db import transaction

    ctx = _ctx()
    try:
        with transaction(ctx.sessions) as session:
            for result in deploy_folder(session, ctx.settings.processes_dir):
                typer.echo(f"service {result.key}: version {result.version}")
            accounts = seed_demo(session)
            _echo_demo_map(session, accounts)
    except DomainError as exc:
        _report_errors(exc)


DEMO_TOUR = "pbg"  # the service whose steps `mpp bootstrap` maps to demo accounts (README "Quick start")
PLATFORM_ACCOUNTS = {"admin": "everything, including the dashboard /dasbor",
                     "analis": "the studio /studio (builds and changes services)",
                     "warga": "the applicant: applies from /, follows at /permohonan-saya",
                     "ppdp": "the data-protection officer: who opened citizens' data, /admin/akses-data"}


def _echo_demo_map(session: Any, accounts: list[Any]) -> None:
    from api.bootstrap import step_accounts

    typer.echo(f"\nDemo accounts (password for all: {accounts[0].password}), log in at /masuk:")
    for username, what in PLATFORM_ACCOUNTS.items():
        typer.echo(f"  {username:28} {what}")
    if any(v.key == DEMO_TOUR for v in registry.latest_versions(session)):
        typer.echo(f"\n{DEMO_TOUR.upper()}, step by step: who logs in for each task")
        for number, step in enumerate(step_accounts(session, DEMO_TOUR), start=1):
            who = " or ".join(step.usernames) or "(no demo account)"
            typer.echo(f"  {number:2}. {step.name:40} {who}")
    typer.echo(f"\n{len(accounts)} demo accounts in all (one per role of the catalogue): `mpp accounts` lists them.")


@app.command()
def accounts() -> None:
    """List every account with its platform role and the roles it holds."""
    from sqlalchemy import select

    from engine.models import Membership, User

    ctx = _ctx()
    with ctx.sessions() as session:
        held: dict[int, list[str]] = {}
        for user_id, role_key, org in session.execute(
                select(Membership.user_id, Membership.role_key, Membership.organisation_code)
                .order_by(Membership.role_key)):
            held.setdefault(user_id, []).append(role_key if org == role_key.split(".", 1)[0] else f"{role_key} @ {org}")
        users = list(session.scalars(select(User).order_by(User.platform_role, User.username)))
        for user in users:
            roles = ", ".join(held.get(user.id, []))
            typer.echo(f"  {user.username:36} {user.platform_role:10} {roles}")
        typer.echo(f"{len(users)} account(s)")


def _actor(session: Any, username: str) -> Any:
    from engine.directory.actors import actor_for
    from engine.directory.service import get_user
    from engine.errors import NotFound

    try:
        return actor_for(session, get_user(session, username))
    except NotFound:
        _fail(f"no user '{username}' (`mpp accounts` lists them)")


@app.command()
def start(
    process_key: str,
    data: Annotated[str, typer.Option(help="initial data as JSON, or @file.json")] = "{}",
    channel: str = "tatap_muka",
    user: Annotated[str, typer.Option("--as", "--user", help="who files it (an existing username)")] = "warga",
) -> None:
    """Start a case of a service with initial data, filed as a user (default: the demo applicant)."""
    from engine.cases.service import start_case
    from engine.db import transaction

    ctx = _ctx()
    payload = _json_arg(data)
    try:
        with transaction(ctx.sessions) as session:
            actor = _actor(session, user)
            applicant = actor.user_id if actor.platform_role == "applicant" else None
            typer.echo(f"filing as {user} ({actor.platform_role})")
            started = start_case(session, rt=ctx.rt, process_key=process_key, data=payload, channel=channel,
                                 actor=actor, applicant_id=applicant)
    except DomainError as exc:
        _report_errors(exc)
    typer.echo(f"case {started.id}  tracking {started.tracking_number}  PIN {started.pin}  "
               f"status {started.status}  stage: {started.stage}")


def _json_arg(text: str) -> dict[str, Any]:
    try:
        raw = Path(text[1:]).read_text() if text.startswith("@") else text
    except OSError as exc:
        _fail(f"cannot read {text[1:]}: {exc.strerror}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        _fail(f"data is not valid JSON: {exc}")
    if not isinstance(value, dict):
        _fail("data must be a JSON object")
    return value


@app.command()
def cases(process: str | None = None, status: str | None = None, limit: int = 20) -> None:
    """List cases, newest first."""
    from engine.cases.service import list_cases

    ctx = _ctx()
    with ctx.sessions() as session:
        rows, total = list_cases(session, process_key=process, status=status, limit=limit)
        for c in rows:
            typer.echo(f"{c.id:6} {c.tracking_number} {c.process_key:12} {c.status:10} {c.stage_id}")
        typer.echo(f"{len(rows)} of {total}")


@app.command()
def tasks(user: Annotated[str, typer.Option(help="list the open tasks this user may work on")]) -> None:
    """List the open tasks a user may work on, overdue first."""
    from engine.cases.tasks import list_tasks

    ctx = _ctx()
    with ctx.sessions() as session:
        rows, total = list_tasks(session, actor=_actor(session, user), limit=100)
        for t in rows:
            due = t.due_at.strftime("%Y-%m-%d") if t.due_at else "-"
            typer.echo(f"{t.id}  case {t.case_id:5}  {t.role:28} due {due}  {t.name}")
        typer.echo(f"{total} open task(s)")


@app.command()
def complete(
    task_id: str,
    user: Annotated[str, typer.Option(help="acting username")],
    data: Annotated[str, typer.Option(help="form data as JSON, or @file.json")] = "{}",
) -> None:
    """Complete an open task with form data."""
    from engine.cases.tasks import complete_task
    from engine.db import transaction

    ctx = _ctx()
    try:
        with transaction(ctx.sessions) as session:
            done = complete_task(session, rt=ctx.rt, task_id=task_id, actor=_actor(session, user),
                                 data=_json_arg(data))
    except DomainError as exc:
        _report_errors(exc)
    typer.echo(f"completed; case {done.case_id} is {done.status}")


@app.command()
def worker() -> None:
    """Run a job worker: fire due timers and flag overdue tasks, until interrupted."""
    from api.logs import setup_logging
    from engine.context import freeze_startup_heap
    from engine.jobs.service import work_forever

    setup_logging()
    ctx = _ctx()
    freeze_startup_heap()
    typer.echo("worker running; Ctrl-C to stop")
    try:
        work_forever(ctx.sessions, rt=ctx.rt)
    except KeyboardInterrupt:
        sys.exit(0)


def use_address(host: str | None, port: int | None) -> Any:
    """Make --host/--port the settings of this process and its children (MPP_HOST, MPP_PORT); return them.

    Without MPP_PUBLIC_URL the public URL (QR links of issued documents, e-mails) follows them.
    """
    import os

    from engine.context import get_context
    from engine.settings import get_settings

    if host is not None:
        os.environ["MPP_HOST"] = host
    if port is not None:
        os.environ["MPP_PORT"] = str(port)
    get_settings.cache_clear()
    get_context.cache_clear()
    return get_settings()


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="listen address [default: MPP_HOST or 127.0.0.1]")] = None,
          port: Annotated[int | None, typer.Option(help="port [default: MPP_PORT or 8000]")] = None,
          embedded_worker: bool = True,
          workers: Annotated[int, typer.Option(min=1, max=64, help="API processes")] = 1) -> None:
    """Serve the web app: one process (with an embedded job worker unless --no-embedded-worker) or several."""
    import os
    import shutil
    import tempfile

    import uvicorn

    from api.app import create_app
    from api.logs import logging_config, setup_logging
    from api.metrics import MULTIPROC_ENV
    from engine.context import freeze_startup_heap

    setup_logging()
    settings = use_address(host, port)
    host, port = settings.host, settings.port
    typer.echo(f"serving on http://{host}:{port}/ (public URL {settings.public_url})")
    ctx = _ctx()  # migrates once, before any worker process starts
    # uvicorn applies the same JSON logging in each process; the access lines are ours (api/logs.py).
    logs: dict[str, Any] = {"log_config": logging_config(), "access_log": False, "log_level": "info"}
    if workers == 1:
        app = create_app(ctx, embedded_worker=embedded_worker)
        freeze_startup_heap()
        uvicorn.run(app, host=host, port=port, proxy_headers=False, **logs)
        return
    os.environ["MPP_EMBEDDED_WORKER"] = "1" if embedded_worker else "0"
    # Each API process writes its HTTP counters here; whichever answers a scrape sums them all.
    metrics_dir = None
    if not os.environ.get(MULTIPROC_ENV):
        metrics_dir = os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="mpp-metrics-")
    try:
        # uvicorn restarts a process that misses its health ping for 5 s (the default); a process still
        # importing and building its app on a loaded machine missed it and was restarted again and again.
        uvicorn.run("api.asgi:create_from_env", factory=True, host=host, port=port, workers=workers,
                    proxy_headers=False, timeout_worker_healthcheck=60, **logs)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


retention_app = typer.Typer(help="Retention of closed cases (docs/privacy.md).", no_args_is_help=True)
app.add_typer(retention_app, name="retention")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count what is due, change nothing")] = False,
) -> None:
    """Anonymise or delete the closed cases past their service's retention, except those under a legal hold."""
    from engine.privacy.retention import run_retention

    ctx = _ctx()
    report = run_retention(ctx.sessions, settings=ctx.settings, now=ctx.rt.clock(), dry_run=dry_run)
    verb = "would be" if dry_run else "were"
    typer.echo(f"{report.anonymised} case(s) {verb} anonymised, {report.deleted} deleted, {report.files} file(s) "
               f"removed; {report.held} kept under a legal hold")
    for key, count in sorted(report.by_service.items()):
        typer.echo(f"  {key:20} {count}")


@app.command()
def backup(file: Annotated[Path, typer.Argument(help="where to write the backup (replaced if it exists)")]) -> None:
    """Back up the database to FILE while the platform runs (SQLite online backup, or pg_dump)."""
    from engine.backup import BackupFailed, backup_database
    from engine.settings import get_settings

    try:
        backup_database(get_settings().database_url, file)
    except BackupFailed as exc:
        _fail(exc.message)
    typer.echo(f"backed up to {file}")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="a file written by `mpp backup`")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    force: Annotated[bool, typer.Option(help="PostgreSQL: restore even while other sessions are connected")] = False,
) -> None:
    """Replace the whole database with a backup, then migrate it. Stop the API and the workers first."""
    from engine.backup import BackupFailed, restore_database
    from engine.settings import get_settings

    if not yes:
        typer.confirm(f"Replace every case, task and account in the database with {file}?", abort=True)
    try:
        restore_database(get_settings().database_url, file, force=force)
    except BackupFailed as exc:
        _fail(exc.message)
    typer.echo(f"restored from {file}; database is up to date")


keys_app = typer.Typer(help="Data keys: the keys sealing sensitive personal data at rest (docs/operations.md).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _echo_counts(title: str, counts: dict[str, int]) -> None:
    typer.echo(f"{title}: " + (", ".join(f"{kid} {n}" for kid, n in sorted(counts.items())) or "none"))


@keys_app.command("status")
def keys_status() -> None:
    """Show the active key and how many sealed values and stored files each key id holds."""
    from engine.privacy import keys, rotate

    ctx = _ctx()
    ring = keys.current()
    typer.echo(f"active key: {ring.active}; configured: {', '.join(ring.keys)}")
    counts = rotate.status(ctx.sessions, files_dir=ctx.settings.files_dir)
    _echo_counts("sealed values", counts.values)
    _echo_counts("stored files", counts.files)
    missing = sorted((set(counts.values) | set(counts.files)) - set(ring.keys) - {rotate.PLAIN})
    if missing:
        _fail(f"stored data uses key(s) not configured: {', '.join(missing)}; add them back to MPP_DATA_KEYS")


@keys_app.command("rotate")
def keys_rotate(
    batch: Annotated[int, typer.Option(min=1, help="cases per transaction")] = 200,
) -> None:
    """Re-seal every value and file under the active key (and seal values stored before encryption)."""
    from engine.privacy import keys, rotate

    ctx = _ctx()
    typer.echo(f"rotating to key {keys.current().active}")
    try:
        counts = rotate.rotate(ctx.sessions, files_dir=ctx.settings.files_dir, batch_size=batch, progress=typer.echo)
    except DomainError as exc:
        _fail(str(exc))
    typer.echo(f"done: {counts.cases} case(s) re-sealed")
    _echo_counts("values re-sealed, by former key", counts.values)
    _echo_counts("files re-sealed, by former key", counts.files)


@keys_app.command("new")
def keys_new(kid: Annotated[str, typer.Argument(help="the new key's id, e.g. k2")]) -> None:
    """Print a fresh key item to put first in MPP_DATA_KEYS."""
    from engine.privacy import keys

    try:
        typer.echo(keys.new_key_text(kid))
    except DomainError as exc:
        _fail(str(exc))


if __name__ == "__main__":
    app()
