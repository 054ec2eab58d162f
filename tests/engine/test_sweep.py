"""The sweep: what lint passes, the platform runs, for every package we have.

Every package in tests/data/sweep (diagrams written for this test, one BPMN feature or two each)
and every catalogue package in processes/ goes through lint; then, through the HTTP API, cases are
started with data generated from the start form, on each channel the service offers, and driven
to their end: each open task is completed by a user holding its role (the `applicant` role by the
applicant who filed) with data generated from its form, and, when nothing is open, the clock moves
past the next pending timer and the worker runs. No response may be a 500, no job may fail, no
case may stall or end in an incident.

Data comes from a small deterministic generator (FormData; hypothesis-jsonschema 0.23 no longer
works with the Hypothesis this project pins). Each run gives every enum and boolean field of a form
one of its values, turning with the run and with each visit of a task, so that different runs take
different gateway paths and a loop back to a task ends; the data satisfies the form the server
checks (the generator checks it with the same validator first).

Lanes bound to a marketplace provider (`bindOrganisation`) receive a provider registered under the
code the generated data names, with an officer holding the lane's role.
"""

from __future__ import annotations

import importlib
import random
import re
import string
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select

from api.app import create_app
from engine.bpmn import compile as spiff
from engine.cases.assignment import agency_of
from engine.cases.requirements import document_slots
from engine.catalogue.package import Package, from_path
from engine.connectors import bindings as connector_bindings
from engine.connectors import spec as connector_spec
from engine.context import AppContext
from engine.db import transaction
from engine.directory import accounts as accounts
from engine.directory import service as directory
from engine.lint.service import lint_package
from engine.models import Incident, Job
from tests.conftest import ROOT, FakeClock
from tests.factories import Driver, api_upload, deploy
from tests.simulators.base import Simulator
from tests.simulators.lapor import Lapor
from tests.simulators.oss import Oss
from tests.simulators.simbg import Simbg

SWEEP = ROOT / "tests" / "data" / "sweep"
CATALOGUE = ROOT / "processes"
PASSWORD = "sweep-rahasia-1"  # noqa: S105 - accounts of a throwaway test database
RUNS = 3  # at least; more when the service offers more channels (one run per channel)
ROUNDS = 80  # task completions and timer firings per case, at most
FIRST_DAY = date(2026, 3, 2)  # dates fall in the test clock's year: a date far away is data no office enters
BIG = 10**6  # the upper bound of numbers a form leaves unbounded: fees and areas, not overflow
# Names with a few letters beyond Latin-1 (the PDF fonts' range): documents must cope with them.
LETTERS = string.ascii_letters + "  éñāŋ’"
# The standard library's regular-expression parser: forms' patterns are sampled from its parse tree.
_RE: Any = importlib.import_module("re._parser")
# Partner systems' answers a case waits for (name, role of the sender, payloads turning by run): the
# sweep plays the partner once a case has waited through one timer, so both the timer and the answer run.
PARTNER_REPLIES: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    "akta_kelahiran": ("jawaban_siak", "disdukcapil.siak", [
        {"status": "diterbitkan", "nomor_akta": "3471-LU-02032026-0001"}, {"status": "ditolak"}]),
}
# National systems a catalogue package calls (connectors.toml), each a local simulator over real HTTP.
SIMULATORS: dict[str, type[Simulator]] = {"lapor": Lapor, "oss": Oss, "simbg": Simbg}
_CATEGORIES = {"CATEGORY_DIGIT": string.digits, "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
               "CATEGORY_SPACE": " "}

def _folders() -> list[Path]:
    sweep = sorted(p.parent for p in SWEEP.glob("*/service.toml"))
    catalogue = sorted(p.parent for p in CATALOGUE.glob("*/service.toml"))
    return sweep + catalogue


# Sweep packages written with a fault lint must refuse (found by this sweep when lint still passed
# them: every one ran into an incident): the elements lint names.
REFUSED: dict[str, set[str]] = {
    # DMN cells `false`/`true` (a NameError at run time) and `"niaga","industri"` (a tuple compared
    # with a string: no rule matches, so `biaya` is never set).
    "tabel_keputusan": {"In_1b", "In_2b", "In_3a"},
}


def _param(folder: Path) -> Any:
    return pytest.param(folder, id=f"{folder.parent.name}/{folder.name}")


FOLDERS = _folders()


# ---------------------------------------------------------------- data from forms


def _in_class(rnd: random.Random, items: list[tuple[Any, Any]]) -> str:
    """Pick a character of a regex character class ([...])."""
    choices: list[str] = []
    negate = False
    for op, arg in items:
        if op == _RE.NEGATE:
            negate = True
        elif op == _RE.LITERAL:
            choices.append(chr(arg))
        elif op == _RE.RANGE:
            choices.extend(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 60) + 1))
        elif op == _RE.CATEGORY:
            choices.extend(_CATEGORIES.get(str(arg), "x"))
    if negate:
        choices = [c for c in string.ascii_letters + string.digits if c not in choices]
    return rnd.choice(choices)


def _from_regex(rnd: random.Random, parsed: Any) -> str:
    """Return a string the parsed regular expression matches (the subset forms use)."""
    out: list[str] = []
    for op, arg in parsed:
        if op == _RE.LITERAL:
            out.append(chr(arg))
        elif op == _RE.NOT_LITERAL or op == _RE.ANY:
            out.append(rnd.choice([c for c in string.ascii_letters if ord(c) != arg]))
        elif op == _RE.IN:
            out.append(_in_class(rnd, arg))
        elif op == _RE.CATEGORY:
            out.append(rnd.choice(_CATEGORIES.get(str(arg), "x")))
        elif op in (_RE.MAX_REPEAT, _RE.MIN_REPEAT, _RE.POSSESSIVE_REPEAT):
            low, high, sub = arg
            out.extend(_from_regex(rnd, sub) for _ in range(rnd.randint(low, min(high, low + 4))))
        elif op == _RE.SUBPATTERN:
            out.append(_from_regex(rnd, arg[-1]))
        elif op == _RE.BRANCH:
            out.append(_from_regex(rnd, rnd.choice(arg[1])))
    return "".join(out)


@dataclass
class FormData:
    """A deterministic generator of data that satisfies a JSON Schema form (the subset forms use).

    Every declared property is filled (so a conditional `then: required` holds); a conditional
    that constrains values is applied by regenerating the fields it names. Top-level enum and
    boolean fields take one value per run, turning with the run number.
    """

    run: int
    seed: str
    channel: str | None = None
    rnd: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rnd = random.Random(f"{self.seed}/{self.run}")

    def form(self, schema: dict[str, Any] | None) -> dict[str, Any]:
        """Return data the form accepts; fail the test when none is found."""
        if not schema:
            return {}
        checker = Draft202012Validator(schema, format_checker=FormatChecker())
        for attempt in range(30):
            data = self.top(schema, turn=attempt == 0)
            if checker.is_valid(data):
                return data
        problems = [e.message for e in checker.iter_errors(data)]
        pytest.fail(f"no generated data satisfies the form {schema.get('title')!r}: {problems}")

    def top(self, schema: dict[str, Any], *, turn: bool) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for index, (name, prop) in enumerate((schema.get("properties") or {}).items()):
            values = prop.get("enum") if isinstance(prop, dict) else None
            if name == "channel" and self.channel is not None:
                data[name] = self.channel
            elif turn and isinstance(values, list) and values:
                data[name] = values[(self.run + index) % len(values)]
            elif turn and isinstance(prop, dict) and prop.get("type") == "boolean":
                data[name] = (self.run + index) % 2 == 0
            else:
                data[name] = self.value(prop)
        conditionals = [schema, *[c for c in schema.get("allOf", []) if isinstance(c, dict)]]
        for _ in range(2):  # a conditional's values may switch on another conditional
            for clause in conditionals:
                if "if" not in clause:
                    continue
                branch = clause.get("then") if Draft202012Validator(clause["if"]).is_valid(data) else clause.get("else")
                for name, extra in ((branch or {}).get("properties") or {}).items():
                    data[name] = self.value({**(schema.get("properties") or {}).get(name, {}), **extra})
        return data

    def value(self, schema: Any) -> Any:
        """Return one value of a property schema."""
        if not isinstance(schema, dict):
            return "x"
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.rnd.choice(schema["enum"])
        kind = schema.get("type", "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        make: dict[str, Callable[[dict[str, Any]], Any]] = {
            "string": self.text, "integer": self.integer, "number": self.number, "array": self.array,
            "object": lambda s: {n: self.value(p) for n, p in (s.get("properties") or {}).items()},
            "boolean": lambda _s: self.rnd.random() < 0.5, "null": lambda _s: None,
        }
        return make[kind](schema)

    def text(self, schema: dict[str, Any]) -> str:
        low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 10**6))
        fmt, pattern = schema.get("format"), schema.get("pattern")
        for _ in range(50):
            if fmt == "date":
                value = (FIRST_DAY + timedelta(days=self.rnd.randint(0, 300))).isoformat()
            elif fmt == "date-time":
                value = f"{FIRST_DAY + timedelta(days=self.rnd.randint(0, 300))}T09:00:00+07:00"
            elif fmt == "email":
                # An address the mailer accepts too (the form's format check only looks for "@").
                value = "".join(self.rnd.choice(string.ascii_lowercase) for _ in range(8)) + "@contoh.id"
            elif pattern:
                value = _from_regex(self.rnd, _RE.parse(pattern))
            else:
                value = self.word(max(low, self.rnd.choice([low, 1, 8])), min(high, max(low, 1) + 24))
            if low <= len(value) <= high and (not pattern or re.search(pattern, value)):
                return value
        pytest.fail(f"cannot generate a string for {schema}")

    def word(self, low: int, high: int) -> str:
        size = self.rnd.randint(low, max(low, high))
        return "".join(self.rnd.choice(LETTERS) for _ in range(size)).strip() or "x" * size

    def bounds(self, schema: dict[str, Any], step: float) -> tuple[float, float]:
        low = schema.get("minimum", schema["exclusiveMinimum"] + step if "exclusiveMinimum" in schema else -100)
        high = schema.get("maximum", schema["exclusiveMaximum"] - step if "exclusiveMaximum" in schema else BIG)
        return float(low), float(high)

    def integer(self, schema: dict[str, Any]) -> int:
        low, high = self.bounds(schema, 1)
        return self.rnd.choice([int(low), int(high), self.rnd.randint(int(low), int(high))])

    def number(self, schema: dict[str, Any]) -> float:
        low, high = self.bounds(schema, 0.01)
        value = self.rnd.choice([low, high, round(self.rnd.uniform(low, high), 2)])
        step = schema.get("multipleOf")
        return float(round(value / step) * step) if step else value

    def array(self, schema: dict[str, Any]) -> list[Any]:
        low = int(schema.get("minItems", 0))
        size = self.rnd.randint(low, min(int(schema.get("maxItems", low + 3)), low + 3))
        return [self.value(schema.get("items", {})) for _ in range(size)]


# ---------------------------------------------------------------- people and the HTTP API


@dataclass
class Sweeper:
    """Drives cases of one deployed package through the API, collecting what went wrong."""

    ctx: AppContext
    clock: FakeClock
    client: TestClient
    bindings: dict[str, str]  # case-data key → marketplace agency whose provider it names
    documents: list[str] = field(default_factory=list)  # the codes of the documents filing requires
    tokens: dict[tuple[str, str | None], dict[str, str]] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)

    def user(self, role: str, org: str | None = None) -> dict[str, str]:
        """Return the Authorization header of an officer holding `role` (in `org`), made on first use."""
        key = (role, org)
        if key not in self.tokens:
            username = (f"{org}_" if org else "") + role.replace(".", "_")
            with transaction(self.ctx.sessions) as session:
                kind = "applicant" if role == "applicant" else "officer"
                user = directory.create_user(session, username=username, platform_role=kind,
                                             password_hash=accounts.hash_password(PASSWORD))
                if kind == "officer":
                    directory.grant(session, user=user, role_key=role, organisation_code=org)
            self.tokens[key] = self.login(username)
        return self.tokens[key]

    def login(self, username: str) -> dict[str, str]:
        response = self.call("post", "/api/auth/token", data={"username": username, "password": PASSWORD})
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def call(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send a request; a 5xx is a finding that stops the run (raised as an assertion)."""
        response = self.client.request(method, url, **kwargs)
        assert response.status_code < 500, f"{method.upper()} {url} → {response.status_code}: {response.text[:500]}"
        assert response.status_code < 400, f"{method.upper()} {url} → {response.status_code}: {response.text[:800]}"
        return response

    def providers(self, data: dict[str, Any]) -> None:
        """Register the marketplace providers the data names, each with officers for the marketplace's roles."""
        for key, marketplace in self.bindings.items():
            code = data.get(key)
            if isinstance(code, str) and code:
                with transaction(self.ctx.sessions) as session:
                    directory.ensure_agency(session, code=code, name_id=code, kind="private",
                                            parent_code=marketplace)

    def run(self, process_key: str, start_schema: dict[str, Any] | None, channel: str, run: int) -> None:
        """Start one case on `channel` and drive it to its end; add a finding when it does not get there."""
        applicant = self.user("applicant")
        data = FormData(run, process_key, channel).form(start_schema)
        visits: dict[str, int] = {}
        idle = 0
        data.pop("channel", None)  # the platform adds the case's channel itself
        self.providers(data)
        files = {code: [api_upload(self.client, applicant, f"{code}.pdf")] for code in self.documents}
        created = self.call("post", "/api/cases", headers=applicant,
                            json={"process_key": process_key, "channel": channel, "data": data,
                                  "documents": files, "privacy_notice_accepted": True}).json()
        case_id = int(created["id"])
        where = f"{process_key} run {run} ({channel}), case {case_id}"
        for _round in range(ROUNDS):
            case = self.call("get", f"/api/cases/{case_id}", headers=applicant).json()
            if case["status"] != "running":
                self.finish(case_id, case["status"], where)
                return
            if case["open_tasks"]:
                task = case["open_tasks"][0]
                visits[task["element_id"]] = visits.get(task["element_id"], -1) + 1
                self.complete(task, run + visits[task["element_id"]])
            elif (idle := idle + 1) > 2 and self.reply(process_key, case_id, run):
                pass
            elif not self.fire_next_job(case_id):
                self.findings.append(f"{where}: stalled — running with no open task and no pending timer or job "
                                     f"(stage {case['stage_id']!r})")
                return
            self.run_jobs(case_id, where)
        self.findings.append(f"{where}: still running after {ROUNDS} rounds")

    def complete(self, task: dict[str, Any], run: int) -> None:
        """Complete a task as a holder of its role, with data generated from its form."""
        role, org = task["role"], task.get("bound_org")
        headers = self.user("applicant") if role == "applicant" else self.user(role, org)
        detail = self.call("get", f"/api/tasks/{task['id']}", headers=headers).json()
        data = FormData(run, task["element_id"]).form(detail["form_schema"])
        self.providers(data)
        for name, value in data.items():  # a file field holds references: upload that many real files
            if isinstance(value, list) and value and all(isinstance(v, str) and v.startswith("file:") for v in value):
                data[name] = [api_upload(self.client, headers, f"{name}-{i}.pdf") for i in range(len(value))]
        self.call("post", f"/api/tasks/{task['id']}/complete", headers=headers, json={"data": data})

    def reply(self, process_key: str, case_id: int, run: int) -> bool:
        """Answer as the partner system when the case waits for one; False when it waits for none."""
        if process_key not in PARTNER_REPLIES:
            return False
        name, role, payloads = PARTNER_REPLIES[process_key]
        response = self.client.post(f"/api/cases/{case_id}/messages", headers=self.user(role),
                                    json={"name": name, "payload": payloads[run % len(payloads)]})
        assert response.status_code < 500, response.text
        return bool(response.status_code == 200)

    def fire_next_job(self, case_id: int) -> bool:
        """Move the clock past the case's next pending job (a timer, an outside call); False when there is none."""
        with self.ctx.sessions() as session:
            due = session.scalar(select(Job.due_at).where(Job.case_id == case_id, Job.status == "pending")
                                 .order_by(Job.due_at).limit(1))
        if due is None:
            return False
        self.clock.now = max(self.clock.now, due.replace(tzinfo=self.clock.now.tzinfo) + timedelta(seconds=1))
        return True

    def run_jobs(self, case_id: int, where: str) -> None:
        Driver(self.ctx).run_jobs()
        with self.ctx.sessions() as session:
            failed = session.execute(select(Job.kind, Job.last_error).where(
                Job.case_id == case_id, Job.last_error.is_not(None))).all()
        for kind, error in failed:
            self.findings.append(f"{where}: the {kind} job failed: {error}")
        assert not failed, self.findings[-1]

    def finish(self, case_id: int, status: str, where: str) -> None:
        self.run_jobs(case_id, where)  # the issued document, the notifications: they must not fail either
        if status in ("completed", "cancelled"):
            return
        with self.ctx.sessions() as session:
            incidents = session.scalars(select(Incident).where(Incident.case_id == case_id)).all()
            found = "; ".join(f"{i.element_id}: {i.message}" for i in incidents) or "no incident row"
        self.findings.append(f"{where}: ended '{status}' — {found}")


def _partners(package: Package, ctx: AppContext, stack: ExitStack) -> None:
    """Bind each system a required (not optional) operation calls to its simulator, started for the sweep."""
    raw = package.files.get(connector_spec.FILE)
    operations = connector_spec.parse(raw.decode()) if raw is not None else {}
    for system in sorted({op.system for op in operations.values() if not op.optional}):
        server = stack.enter_context(SIMULATORS[system]())
        with transaction(ctx.sessions) as session:
            connector_bindings.set_binding(session, system=system, actor="admin", key=ctx.settings.secret_key
                                           .get_secret_value(), change=connector_bindings.BindingChange(server.url))


def _bindings(package: Package) -> dict[str, str]:
    """Map each case-data key a lane binds an organisation to, to the marketplace agency of the lane's role."""
    compiled = spiff.compile_package(package)
    return {meta.bind_organisation: agency_of(meta.role) for meta in compiled.tasks.values()
            if meta.bind_organisation and meta.role}


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with the cheapest argon2id parameters: the sweep logs dozens of users in."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.mark.usefixtures("fast_hashing")
@pytest.mark.parametrize("folder", [_param(f) for f in FOLDERS])
def test_what_lint_passes_runs(folder: Path, ctx: AppContext, clock: FakeClock) -> None:
    package = from_path(folder)
    errors = [p for p in lint_package(package) if p.severity == "error"]
    if folder.parent == SWEEP and folder.name in REFUSED:
        assert {p.element_id for p in errors} == REFUSED[folder.name], [p.render() for p in errors]
        return  # what lint refuses never reaches a case
    assert errors == [], [p.render() for p in errors]
    deploy(ctx, package)
    service = package.service()
    channels: list[str] = list(service.get("channels") or ["daring"])
    start_form = service.get("start_form")
    start_schema = spiff.compile_package(package).form(str(start_form)) if start_form else None
    with ExitStack() as partners, TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        _partners(package, ctx, partners)
        required = [slot.code for slot in document_slots(service) if not slot.optional]
        sweeper = Sweeper(ctx, clock, client, _bindings(package), documents=required)
        for run in range(max(RUNS, len(channels))):
            sweeper.run(str(service["key"]), start_schema, channels[run % len(channels)], run)
    assert sweeper.findings == [], "\n".join(sweeper.findings)


def test_the_sweep_has_its_diagrams() -> None:
    assert len([f for f in FOLDERS if f.parent == SWEEP]) >= 20

