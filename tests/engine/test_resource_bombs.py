"""Resource bombs in a package's code end as violations within their limits; the case becomes an incident.

The corpus: CPU, memory, output size, recursion, regular expressions, codecs, big integers, deep
data and templates, each as a script (run in a worker process) or an expression (in a worker
unless provably cheap). Each must raise a sandbox violation well inside a few seconds, and the
worker pool must serve the next run. Then the same through the engine: a bomb in a script task,
a gateway condition, a timer expression and a script run by the job worker after a timer each
leave the case as an incident naming the element and the limit; a job whose worker keeps dying
is parked instead of run forever.
"""

from __future__ import annotations

import contextlib
import os
import pickle  # noqa: S403 - frames for our own worker processes
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from engine import isolation
from engine.bpmn.sandbox import Limits, SandboxEnvironment, SandboxViolation, runs_in_process
from engine.context import AppContext
from engine.db import transaction
from engine.documents import isolate
from engine.isolation import IsolationLimit
from engine.jobs import service as jobs
from engine.models import Case, Incident, Job
from engine.notify.templates import TemplateProblem, render_package_template
from tests.conftest import FakeClock
from tests.engine import worker_probe
from tests.engine.test_runtime_contract import (
    END_EVENT,
    START,
    START_EVENT,
    flow_package,
    incident_of,
    retry,
    timer_event,
    user_task,
)
from tests.factories import Driver, deploy, make_user

pytestmark = pytest.mark.slow

# Every bomb must end within this (the limit is 0.5 s; a killed worker adds its grace and a restart).
ENDS_WITHIN_S = 5.0

_NEST = "a = [0] * 99999\nb = [0] * 99999\n" + "\n".join("a = [a, a]\nb = [b, b]" for _ in range(40))
_MANY = ", ".join(["[0] * 100000"] * 1500)


@dataclass(frozen=True)
class Bomb:
    name: str
    kind: str
    mode: str  # exec (script) or eval (expression)
    source: str
    data: tuple[tuple[str, Any], ...] = ()


PUNY = "".join(chr(256 + i) for i in range(40_000))  # distinct non-ASCII letters: punycode is quadratic in them

BOMBS = [
    # CPU
    Bomb("endless while", "cpu", "exec", "while True:\n    pass"),
    Bomb("nested loops", "cpu", "exec", "n = 0\nfor i in range(100000):\n    for j in range(100000):\n        n += 1"),
    Bomb("comprehension product", "cpu", "eval", "len([y for x in range(100000) for y in range(100000)]) > 0"),
    Bomb("compare shared structures", "cpu", "exec", _NEST + "\nr = a == b"),
    Bomb("max of shared structures", "cpu", "exec", _NEST + "\nr = max(a, b)"),
    Bomb("sorted shared structures", "cpu", "exec", _NEST + "\nr = sorted([a, b])"),
    Bomb("membership walk", "cpu", "exec", "l = list(range(100000))\nfor i in range(1000000):\n    r = -1 in l"),
    Bomb("hash collisions", "cpu", "exec", "s = set([i * (2 ** 61 - 1) for i in range(90000)])"),
    Bomb("count on shared structure", "cpu", "exec", _NEST + "\nr = [a, b].count(b)"),
    Bomb("lambda storm", "cpu", "exec", "f = lambda x: x + 1\nfor i in range(10 ** 7):\n    f(i)"),
    # memory
    Bomb("zip of shared rows", "memory", "exec",
         "a = [0] * 100000\nb = [" + ", ".join(["a"] * 1500) + "]\nc = list(zip(*b))"),
    Bomb("many big lists", "memory", "exec", f"x = [{_MANY}]"),
    Bomb("shared rows multiplied", "memory", "eval", "[[[0] * 100000] * 100000] * 100000 == x", (("x", 1),)),
    Bomb("zip unpack multiplied", "memory", "eval", "len(list(zip(*[[0] * 100000] * 3000)))"),
    Bomb("string doubling", "memory", "exec", "s = 'x' * 100000\nfor i in range(40):\n    s = s + s"),
    # output size
    Bomb("huge task data", "output", "exec", "x = ['a' * 100000] * 1000"),
    Bomb("huge padding", "output", "eval", "'a'.ljust(10 ** 9)"),
    Bomb("huge format width", "output", "eval", "f'{x:>1000000000}'", (("x", 1),)),
    Bomb("huge replace", "output", "eval", "('ab' * 50000).replace('a', 'a' * 1000)"),
    Bomb("huge percent format", "output", "eval", "'%0999999999d' % 1"),
    # recursion
    Bomb("endless recursion", "recursion", "exec", "def f(n):\n    return f(n + 1)\nf(0)"),
    Bomb("self-applying lambda", "recursion", "eval", "(lambda f: f(f))(lambda f: f(f))"),
    Bomb("deep nesting compared", "recursion", "exec",
         "a = []\nb = []\nfor i in range(200000):\n    a = [a]\n    b = [b]\nr = a == b"),
    # codecs
    Bomb("punycode in a script", "codec", "exec", "t = len(s.encode('punycode'))", (("s", PUNY),)),
    Bomb("punycode in a condition", "codec", "eval", "len(s.encode('punycode')) > 0", (("s", PUNY),)),
    # big integers
    Bomb("power tower", "bigint", "eval", "10 ** 10 ** 10"),
    Bomb("shift", "bigint", "eval", "1 << 10 ** 9"),
    Bomb("repeated squaring", "bigint", "exec", "x = 3\nfor i in range(64):\n    x = x * x"),
    Bomb("digits from text", "bigint", "eval", "int('1' * 5000)"),
    Bomb("decimal exponent", "bigint", "eval", "Decimal('1e999999999') + 1"),
    Bomb("decimal power", "bigint", "eval", "int(Decimal(10) ** 100000)"),
    # deep data
    Bomb("deep task data", "deep", "exec", "x = []\nfor i in range(100):\n    x = [x]"),
    Bomb("self-containing data", "deep", "exec", "x = []\nx.append(x)"),
    Bomb("deep rendering", "deep", "exec", "x = []\nfor i in range(100000):\n    x = [x]\ns = str(x)"),
]


@pytest.fixture(scope="module")
def environment() -> SandboxEnvironment:
    assert isolation.enabled(), "these tests are about the worker processes; Linux has them"
    return SandboxEnvironment(limits=Limits())


@pytest.mark.parametrize("bomb", BOMBS, ids=[b.name for b in BOMBS])
def test_a_resource_bomb_ends_as_a_violation_within_its_limits(environment: SandboxEnvironment, bomb: Bomb) -> None:
    data = dict(bomb.data)
    start = time.monotonic()
    run = environment.execute if bomb.mode == "exec" else environment.evaluate
    with pytest.raises((SandboxViolation, ValueError, ArithmeticError)) as caught:
        run(bomb.source, data)
    elapsed = time.monotonic() - start
    assert elapsed < ENDS_WITHIN_S, f"{bomb.name} took {elapsed:.1f} s: {caught.value}"
    assert data == dict(bomb.data), "a failed script must leave the task data as it was"
    # The pool still serves: a killed worker was replaced.
    follow = {"n": 2}
    environment.execute("n = n * 21", follow)
    assert follow == {"n": 42}


def test_the_corpus_covers_every_kind_and_has_at_least_thirty_bombs() -> None:
    assert len(BOMBS) >= 30
    assert {b.kind for b in BOMBS} >= {"cpu", "memory", "output", "recursion", "codec", "bigint", "deep"}


def test_cheap_conditions_stay_in_process_and_everything_else_goes_to_a_worker() -> None:
    assert runs_in_process('fungsi == "hunian" and luas > 100')
    assert runs_in_process("len(dokumen) >= 2 or data.get('x', 0) > max(a, b)")
    assert runs_in_process("tanggal.weekday() < 5 and total_seconds == 3")
    assert not runs_in_process("sum(x) > 0")  # over an iterable: walks all of it
    assert not runs_in_process("max(x) > 0")
    assert not runs_in_process("[y for y in x]")
    assert not runs_in_process("(y := 3) > 2")
    assert not runs_in_process("s.encode('punycode')")
    assert not runs_in_process("f(*x)")
    assert not runs_in_process("x == 1 or " + " or ".join(["x == 1"] * 100))  # longer than the rule allows


def test_a_regular_expression_cannot_run_in_package_code(environment: SandboxEnvironment) -> None:
    # Scripts have no `re`; form patterns run on a linear-time engine (tests/forms).
    with pytest.raises(SandboxViolation, match="import"):
        environment.execute("import re\nr = re.match('^(a+)+$', 'a' * 30 + '!')", {})


def test_the_failing_line_of_a_script_run_in_a_worker_is_named(environment: SandboxEnvironment) -> None:
    with pytest.raises(ZeroDivisionError) as caught:
        environment.execute("a = 1\nb = 2\nc = a / 0", {})
    assert getattr(caught.value, "script_line", None) == 3


# ---------------------------------------------------------------- templates


@pytest.mark.parametrize("source", [
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "{{ 'a' * 1000000000 }}",
    "{% set x = 'ab' * 100000 %}{% for i in range(100000) %}{{ x }}{% endfor %}",
])
def test_a_template_bomb_stops_at_the_workers_limits(source: str) -> None:
    start = time.monotonic()
    with pytest.raises((IsolationLimit, TemplateProblem)):
        render_package_template(source, {"data": {}})
    assert time.monotonic() - start < ENDS_WITHIN_S
    assert render_package_template("Halo {{ nama }}", {"nama": "Budi"}) == "Halo Budi"


# ---------------------------------------------------------------- through the engine

SCRIPT_BOMB = "n = 0\nwhile True:\n    n += 1"
CONDITION_BOMB = "len([y for x in range(100000) for y in range(100000)]) > len(catatan)"


def _bomb_package(key: str, nodes: list[tuple[str, str]]) -> Any:
    ids = [node_id for node_id, _xml in nodes]
    return flow_package(key, nodes, {"Petugas [dinas.petugas]": ids})


def _script(node_id: str, source: str) -> tuple[str, str]:
    return node_id, f'<bpmn:scriptTask id="{node_id}" name="Hitung">{{io}}<bpmn:script>{source}</bpmn:script>' \
                    "</bpmn:scriptTask>"


def test_a_script_bomb_at_apply_time_leaves_the_case_an_incident(ctx: AppContext) -> None:
    deploy(ctx, _bomb_package("bom_skrip", [START_EVENT, _script("Script_bom", SCRIPT_BOMB), user_task(),
                                            END_EVENT]))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    start = time.monotonic()
    case = Driver(ctx).start("bom_skrip", START, officer)
    assert time.monotonic() - start < ENDS_WITHIN_S
    assert case.status == "incident"
    incident = incident_of(ctx, case.id)
    assert incident.element_id == "Script_bom"
    assert "loop iterations" in incident.message or "longer than" in incident.message


def test_a_condition_bomb_is_an_incident_on_its_gateway(ctx: AppContext) -> None:
    gateway = ("Gateway_cek", '<bpmn:exclusiveGateway id="Gateway_cek" default="Flow_lain">{io}'
                              '<bpmn:outgoing>Flow_lain</bpmn:outgoing></bpmn:exclusiveGateway>')
    package = _bomb_package("bom_syarat", [START_EVENT, user_task(), gateway, END_EVENT])
    text = package.files["process.bpmn"].decode()
    condition = "".join(f"&#{ord(c)};" if c in "<>&'\"" else c for c in CONDITION_BOMB)
    text = text.replace('<bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_cek" targetRef="EndEvent_1"/>',
                        '<bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_cek" targetRef="EndEvent_1">'
                        f'<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>'
                        '<bpmn:sequenceFlow id="Flow_lain" sourceRef="Gateway_cek" targetRef="EndEvent_1"/>')
    text = text.replace('<bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_3</bpmn:incoming>',
                        '<bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_3</bpmn:incoming>'
                        "<bpmn:incoming>Flow_lain</bpmn:incoming>")
    package.files["process.bpmn"] = text.encode()
    deploy(ctx, package)
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("bom_syarat", START, officer)
    start = time.monotonic()
    assert d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"}) == "incident"
    assert time.monotonic() - start < ENDS_WITHIN_S
    incident = incident_of(ctx, case.id)
    assert incident.element_id == "Gateway_cek"
    assert "loop iterations" in incident.message


def test_a_timer_expression_bomb_is_an_incident_on_the_timer(ctx: AppContext) -> None:
    bomb = "timedelta(days=len([y for x in range(100000) for y in range(100000)]))"
    deploy(ctx, _bomb_package("bom_timer", [START_EVENT, timer_event("timeDuration", bomb), user_task(),
                                            END_EVENT]))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    case = Driver(ctx).start("bom_timer", START, officer)
    assert case.status == "incident"
    assert incident_of(ctx, case.id).element_id == "Timer_tunggu"


def test_a_bomb_after_a_timer_is_an_incident_the_job_worker_does_not_run_again(
        ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, _bomb_package("bom_nanti", [START_EVENT, timer_event("timeDuration", "timedelta(hours=1)"),
                                            _script("Script_bom", SCRIPT_BOMB), user_task(), END_EVENT]))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("bom_nanti", START, officer)
    assert case.status == "running"
    clock.advance(hours=2)
    d.run_jobs()
    assert d.case(case.id).status == "incident"
    assert incident_of(ctx, case.id).element_id == "Script_bom"
    with ctx.sessions() as session:
        timer_jobs = session.query(Job).filter_by(case_id=case.id, kind="timer").all()
    assert [job.status for job in timer_jobs] == ["done"]  # the step ran once and ended; nothing is retried
    clock.advance(hours=2)
    d.run_jobs()
    with ctx.sessions() as session:
        assert session.query(Incident).filter_by(case_id=case.id).count() == 1
        assert [job.attempts for job in session.query(Job).filter_by(case_id=case.id, kind="timer")] == [1]


def test_a_job_whose_worker_keeps_dying_is_parked_and_its_case_becomes_an_incident(
        ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, _bomb_package("bom_mati", [START_EVENT, timer_event("timeDuration", "timedelta(hours=1)"),
                                           user_task(), END_EVENT]))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("bom_mati", START, officer)
    # What a worker killed mid-job leaves behind, the last of its allowed attempts: running, lease expired.
    with transaction(ctx.sessions) as session:
        job = session.query(Job).filter_by(case_id=case.id, kind="timer").one()
        job.status, job.attempts, job.locked_by = "running", jobs.MAX_ATTEMPTS, "gone:1"
        job.locked_until = clock() - timedelta(minutes=1)
    clock.advance(hours=2)
    d.run_jobs()
    with ctx.sessions() as session:
        parked = session.get(Job, job.id)
        assert parked is not None
        assert parked.status == "failed"
        assert "stopped 5 times" in (parked.last_error or "")
        assert session.get(Case, case.id).status == "incident"  # type: ignore[union-attr]
        incident = session.query(Incident).filter_by(case_id=case.id).one()
    assert incident.element_id == "Timer_tunggu"
    d.run_jobs()
    with ctx.sessions() as session:  # parked: not claimed again
        assert session.get(Job, job.id).attempts == jobs.MAX_ATTEMPTS  # type: ignore[union-attr]
    # The operator's retry schedules the timer afresh; it fires and the case goes on.
    assert retry(ctx, case.id) == "running"
    clock.advance(hours=2)  # the timer keeps its own due time (an hour after it started, on the wall clock)
    d.run_jobs()
    assert d.open_ids(case.id) == ["Task_periksa"]


def test_a_worker_process_holds_none_of_the_platforms_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPP_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("SMTP_PASSWORD", "rahasia")
    isolation.pool().close()  # idle workers were started before these were set; start new ones
    seen = isolation.run(worker_probe.environment, limits=isolation.ProcessLimits())
    assert seen["PATH"] == os.environ["PATH"]
    assert not any(name.startswith("MPP_") for name in seen)
    assert "SMTP_PASSWORD" not in seen
    assert os.getpid() != isolation.run(os.getpid, limits=isolation.ProcessLimits())


def test_pools_warmed_side_by_side_never_wait_on_each_other() -> None:
    pool = isolation.Pool(2)
    try:
        warmers = [threading.Thread(target=pool.warm) for _ in range(4)]
        for warmer in warmers:
            warmer.start()
        for warmer in warmers:
            warmer.join(timeout=60)
        assert not any(warmer.is_alive() for warmer in warmers)
        assert pool.call(len, "abc", limits=isolation.ProcessLimits()) == 3
        assert len(pool._idle) == 2
    finally:
        pool.close()


def _framed(payload: bytes) -> bytes:
    return isolation._HEADER.pack(len(payload)) + payload


@pytest.mark.parametrize(("module", "request_frame"), [
    ("engine.isolation", b""),  # the worker's first write is its "ready", while the parent is already gone
    ("engine.documents.isolate",
     _framed(pickle.dumps(("os", "getpid", (), isolate.ChildLimits())))),  # its reply finds no reader
])
def test_a_worker_whose_parent_is_gone_ends_quietly(module: str, request_frame: bytes) -> None:
    """A server stopping while its workers start (or before it reads a reply) leaves no traceback in its log."""
    process = subprocess.Popen([sys.executable, "-c", f"from {module} import serve; serve()"],  # noqa: S603
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=isolation.ROOT)
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdout.close()  # the parent stops reading before the worker has written anything
    if request_frame:
        process.stdin.write(request_frame)
        process.stdin.flush()
    _out, err = process.communicate(timeout=60)
    assert err == b""
    assert process.returncode == 0


@contextlib.contextmanager
def _stopped_worker(seconds: float) -> Iterator[tuple[isolation.Pool, int]]:
    """A pool of one worker, stopped now (as a machine too busy to run it would) and let go on after `seconds`."""
    pool = isolation.Pool(1)
    resume: threading.Timer | None = None
    try:
        pool.warm()
        pid = pool._idle[0].process.pid
        os.kill(pid, signal.SIGSTOP)
        resume = threading.Timer(seconds, os.kill, (pid, signal.SIGCONT))
        resume.start()
        yield pool, pid
    finally:
        if resume is not None:
            resume.cancel()
        pool.close()


def test_a_worker_that_waited_for_the_processor_is_not_stopped_for_it() -> None:
    """The time limit counts the worker's CPU: a call that could not run yet is waited for, not killed."""
    with _stopped_worker(1.0) as (pool, pid):  # five times the limit, with no CPU used
        assert pool.call(len, "abcd", limits=isolation.ProcessLimits(wall_s=0.2)) == 4
        assert pool._idle[0].process.pid == pid  # the same worker answered: it was never killed


def test_a_worker_starved_past_the_patience_is_stopped_all_the_same() -> None:
    limits = isolation.ProcessLimits(wall_s=0.1)
    with _stopped_worker(30.0) as (pool, _pid):
        start = time.monotonic()
        with pytest.raises(IsolationLimit) as caught:
            pool.call(len, "abcd", limits=limits)
        assert caught.value.limit == "time"
        assert start + isolation.PATIENCE * limits.wall_s <= time.monotonic() < start + 20
