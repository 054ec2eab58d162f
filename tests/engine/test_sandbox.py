"""Tests of the script sandbox: escapes refused, budgets enforced, real scripts and diagrams work."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.sandbox import (
    Limits,
    SandboxResourceLimit,
    SandboxTimeout,
    SandboxViolation,
    check_expression,
    check_script,
    default_helpers,
    evaluate,
    execute,
    make_script_engine,
)

DEFAULT = Limits()
MARKER = "/tmp/mpp-sandbox-escape-marker"  # noqa: S108 -- a path escapes would write to; never created

# Expressions that try to get out; each must be refused by check_expression or by evaluate.
EXPRESSION_ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "[].__class__.__mro__[1].__subclasses__()",
    "__import__('os').system('id')",
    "__import__('os').system('touch ' + path)",
    "getattr((), '__class__')",
    "type(1)",
    "type(x)('y', (), {})",
    "(lambda: 0).__globals__",
    "(lambda: 0).__code__",
    "(x for x in ()).gi_frame.f_back.f_globals",
    "(x for x in ()).gi_code",
    "(x for x in ()).send(None)",
    "'{0.__class__.__base__}'.format(())",
    "'{.__class__}'.format_map({})",
    "'{0.__init__.__globals__}'.format(money)",
    "'{0[0]}'.format(['x'])",
    "'{x.real}'.format_map({'x': 1})",
    "eval('1')",
    "exec('x=1')",
    "compile('1', '', 'eval')",
    "open('/etc/passwd').read()",
    "open(path, 'w').write('x')",
    "globals()",
    "vars()",
    "locals()",
    "__builtins__",
    "print.__self__",
    "print('x')",
    "dict.__dict__",
    "object.__subclasses__()",
    "str.mro()",
    "list.mro()",
    "ValueError.mro()",
    "str.upper('a')",
    "dict.fromkeys('ab')",
    "f'{().__class__}'",
    "(__builtins__ := {})",
    "[x for x in ().__class__.__bases__]",
    "help()",
    "help",
    "breakpoint()",
    "ｅｖａｌ('1')",  # fullwidth letters: Python normalises identifiers (NFKC) to 'eval'
    "()._＿class＿＿",  # fullwidth low lines normalise to '__class__'
    "input()",
    "memoryview(b'x')",
    "bytearray(10)",
    "iter(int, 1)",
    "object()",
    "super()",
    "dir()",
    "'a'.upper.__self__",
    "money.__globals__['os']",
    "today.__wrapped__",
    "Decimal.from_float(1.0)",
    "date.today()",
    "date.min",
    "now().tzinfo",
    "(1).to_bytes(10**9, 'big')",
    "list[int]",
    "'%(a)s' % {'a': ().__class__}",
    "lambda: (yield)",
    "items.append(1) or True",
]

# Scripts that try to get out; each must be refused by check_script or by execute.
SCRIPT_ESCAPES = [
    "import os",
    "from os import path",
    "import builtins",
    "g = getattr\nx = g((), '__class__')",
    "t = type\nx = t(1)",
    "try:\n    1/0\nexcept ZeroDivisionError as e:\n    x = e.__traceback__.tb_frame",
    "try:\n    1/0\nexcept ZeroDivisionError as e:\n    x = e.with_traceback(None)",
    "try:\n    1/0\nexcept:\n    x = 1",
    "@money\ndef f():\n    pass",
    "class A:\n    pass",
    "class A(object):\n    x = 1",
    "def f():\n    yield 1",
    "with open(path, 'w') as f:\n    pass",
    "global x\nx = 1",
    "async def f():\n    pass",
    "match x:\n    case _:\n        pass",
    "try:\n    pass\nexcept* ValueError:\n    pass",
    "x = 1\nx.y = 2",
    "items[0:1] = [2, 3]",
    "def f():\n    try:\n        return 1\n    finally:\n        return 2",
    "for i in range(3):\n    try:\n        pass\n    finally:\n        continue",
    "x = str\ny = x.maketrans('a', 'b')",
    "e = ValueError('x')\ny = e.args.__class__",
    "f = lambda: 0\nf.__globals__['x'] = 1",
    "x = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen']",
]


def _refusal(check: Any, run: Any, source: str) -> str:
    """Return why source was refused: the check's message or the violation raised when run."""
    problem = check(source)
    if problem is not None:
        return str(problem)
    with pytest.raises(SandboxViolation) as info:
        run(source)
    return str(info.value)


def _data() -> dict[str, Any]:
    return {"x": 1, "path": MARKER, "items": [1, 2]}


@pytest.mark.parametrize("source", EXPRESSION_ESCAPES)
def test_expression_escape_is_refused(source: str) -> None:
    data = _data()
    assert _refusal(check_expression, lambda s: evaluate(s, data), source)
    assert data == _data()
    assert not Path(MARKER).exists()


@pytest.mark.parametrize("source", SCRIPT_ESCAPES)
def test_script_escape_is_refused(source: str) -> None:
    data = _data()
    assert _refusal(check_script, lambda s: execute(s, data), source)
    assert data == _data()
    assert not Path(MARKER).exists()


def test_corpus_is_large_and_leaves_no_trace() -> None:
    assert len(EXPRESSION_ESCAPES) + len(SCRIPT_ESCAPES) >= 30
    for source in EXPRESSION_ESCAPES:
        _refusal(check_expression, lambda s: evaluate(s, _data()), source)
    for source in SCRIPT_ESCAPES:
        _refusal(check_script, lambda s: execute(s, _data()), source)
    assert not Path(MARKER).exists()
    for name in ("os", "sys", "subprocess", "importlib", "posix"):
        with pytest.raises(NameError):
            evaluate(name, {})
    assert check_expression("builtins") is not None


def test_violation_messages_name_the_construct_and_line() -> None:
    assert check_script("x = 1\nimport os") == "Line 2: import is not allowed; use the helpers the platform provides"
    with pytest.raises(SandboxViolation, match=r"attribute 'mro' of a type .*\(line 3\)"):
        execute("a = 1\nb = 2\nc = str.mro()", {})
    assert check_expression("x ==") is not None
    with pytest.raises(SyntaxError):
        evaluate("x ==", {"x": 1})


def test_caught_violation_still_fails_the_run() -> None:
    # Only specific exception classes are exposed, so scripts cannot catch a violation...
    with pytest.raises(NameError):
        execute("try:\n    x = 1 / 0\nexcept Exception:\n    pass", {})
    # ...and what they can catch is not a base class of it.
    with pytest.raises(SandboxViolation):
        execute("try:\n    y = str.mro()\nexcept (ValueError, TypeError, ArithmeticError, LookupError):\n    y = 0", {})


# Code that would hang or eat memory; each must stop with a budget violation within seconds.
RUNAWAYS = [
    "while True:\n    pass",
    "for i in range(10**9):\n    pass",
    "for i in range(100000):\n    for j in range(100000):\n        pass",
    "x = 'a' * 10**9",
    "x = [0] * 10**9",
    "x = 2 ** 10**8",
    "x = 10**10**10",
    "x = 1 << 10**9",
    "x = 'x'.join(str(i) for i in range(10**9))",
    "x = ('a' * 100000).join(['b'] * 100000)",
    "f = lambda f: f(f)\nf(f)",
    "def f(n):\n    return 0 if n == 0 else f(n - 1) + f(n - 1)\nx = f(40)",
    "s = 'a'\nfor i in range(100):\n    s += s",
    "l = [0]\nfor i in range(100):\n    l.extend(l)",
    "l = [0]\nfor x in l:\n    l.append(x)",
    "s = 'a' * 100000\nx = str([s] * 100000)",
    "s = 'a' * 100000\nx = [s] * 100000",
    "s = 'a' * 100000\nx = f'{s}{s}'",
    "x = '%0999999999d' % 1",
    "x = f'{1:0999999999}'",
    "x = '{:.999999999f}'.format(1.0)",
    "x = 'a'.ljust(10**9)",
    "x = '\\t'.expandtabs(10**9)",
    "x = ('a' * 1000).replace('', 'b' * 1000)",
    "x = round(5, -10**18)",
    "x = int(Decimal('1e999999999'))",
    "x = sum([[0] * 1000] * 1000, [])",
    "l = []\nl.append(l)",
    # Ints with equal hashes make building a set quadratic inside one C call.
    "l = [i * 2305843009213693951 for i in range(100000)]\ns = set(l)",
    "try:\n    while True:\n        pass\nexcept ValueError:\n    pass",
]


def _run_bounded(source: str, limits: Limits = DEFAULT) -> BaseException | None:
    """Run source in a thread so a broken sandbox fails the test instead of hanging the suite."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            execute(source, {}, limits=limits)
            outcome.append(None)
        except BaseException as exc:  # handed back to the test
            outcome.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), f"sandbox did not stop {source!r}"
    assert time.monotonic() - started < 5
    return outcome[0]


@pytest.mark.parametrize("source", RUNAWAYS)
def test_runaway_code_is_stopped(source: str) -> None:
    error = _run_bounded(source)
    assert isinstance(error, SandboxTimeout | SandboxResourceLimit), repr(error)


def test_memory_budget_stops_many_medium_allocations() -> None:
    # Each string is under max_sequence; together they would need about 10 GB. The time budget is wide so that
    # only the memory budget can stop it (on a loaded machine 0.5 s ran out first).
    error = _run_bounded("x = [('a' * 99000) + str(i) for i in range(100000)]",
                         Limits(max_memory_mb=64, timeout_s=4.0))
    assert isinstance(error, SandboxResourceLimit)
    assert "memory" in str(error)


def test_timeout_is_reported_as_such() -> None:
    error = _run_bounded("while True:\n    pass", Limits(timeout_s=0.05))
    assert isinstance(error, SandboxTimeout)


def test_conditions_and_arithmetic() -> None:
    data = {"approved": True, "area": 120.5, "kind": "hunian", "tags": ["a", "b"], "fee": {"base": 1000}}
    assert evaluate("approved == True", data) is True
    assert evaluate("area > 100 and kind in ('hunian', 'usaha')", data) is True
    assert evaluate("not approved or area < 10", data) is False
    assert evaluate("fee['base'] * 3 + 2 ** 10 - 7 // 2 % 5", data) == 4021
    assert evaluate("len(tags) == 2 and 'b' in tags", data) is True
    assert evaluate("[t.upper() for t in tags if t != 'a']", data) == ["B"]
    assert evaluate("{k: v * 2 for k, v in fee.items()}", data) == {"base": 2000}
    assert evaluate("sorted(items, key=lambda i: i['n'])[0]['n']", {"items": [{"n": 3}, {"n": 1}]}) == 1
    assert evaluate("'  Budi ', 'x'", {}) == ("  Budi ", "x")
    assert evaluate("' Budi '.strip().startswith('Bu')", {}) is True
    assert evaluate("'{} {}'.format(a, b)", {"a": 1, "b": "dua"}) == "1 dua"
    assert evaluate("'{name}: {0:>5}'.format(7, name='n')", {}) == "n:     7"
    assert evaluate("f'{area:,.1f} m2'", data) == "120.5 m2"
    assert evaluate("'%s-%03d' % ('PBG', 7)", {}) == "PBG-007"
    assert evaluate("isinstance(area, float) and isinstance(kind, (int, str))", data) is True
    assert evaluate("sum(range(10)) + max([1, 5]) + min(3, 2) + abs(-1) + round(2.6)", {}) == 56
    assert evaluate("any(x > 1 for x in [1, 2]) and all([1, True])", {}) is True
    assert evaluate("list(zip([1, 2], 'ab')) + list(enumerate('c'))", {}) == [(1, "a"), (2, "b"), (0, "c")]
    assert evaluate("int('12') + float('1.5') + bool(0) + len(set([1, 1])) + len(tuple('ab'))", {}) == 16.5
    assert evaluate("str(12) + str([1, 'a'])", {}) == "12[1, 'a']"


def test_decimal_money_and_dates() -> None:
    assert evaluate("money(12500.5)", {}) == Decimal("12501")
    assert evaluate("money(Decimal('2.5') * 3)", {}) == Decimal("8")
    assert evaluate("money(luas * tarif)", {"luas": 120, "tarif": 15000}) == Decimal("1800000")
    assert evaluate("isinstance(Decimal('1.5'), Decimal)", {}) is True
    assert evaluate("date(2026, 12, 1) + timedelta(days=30)", {}) == dt.date(2026, 12, 31)
    assert evaluate("date(2026, 12, 1).weekday()", {}) == 1
    assert evaluate("today() == now().date()", {}) is True
    assert evaluate("now().utcoffset() == timedelta(hours=7)", {}) is True
    assert evaluate("(date(2026, 12, 25) - date(2026, 12, 1)).days", {}) == 24
    assert evaluate("f'{d:%d-%m-%Y}'", {"d": dt.date(2026, 1, 2)}) == "02-01-2026"
    assert set(default_helpers()) == {"Decimal", "money", "date", "today", "now", "timedelta"}


def test_extra_helpers_are_callable() -> None:
    extra = {"add_working_days": lambda d, n: d + dt.timedelta(days=n)}
    assert evaluate("add_working_days(date(2026, 1, 1), 2)", {}, extra=extra) == dt.date(2026, 1, 3)


def test_execute_updates_data_without_leaking_helpers() -> None:
    data: dict[str, Any] = {"x": 4, "items": [{"n": 2}, {"n": 1}], "old": 1, "_internal": "kept"}
    script = (
        "def double(v):\n"
        "    return v * 2\n"
        "y = double(x)\n"
        "total = money(sum(i['n'] for i in items) * 1000.4)\n"
        "items = sorted(items, key=lambda i: i['n'])\n"
        "due = date(2026, 1, 1) + timedelta(days=y)\n"
        "label = 'Nomor {}'.format(y)\n"
        "counts = {}\n"
        "for i in range(3):\n"
        "    counts[str(i)] = i\n"
        "    y += 1\n"
        "while y < 20:\n"
        "    y = y * 2\n"
        "helper = money\n"
        "del old\n"
    )
    execute(script, data, extra={"add_working_days": lambda d, n: d})
    assert data == {
        "x": 4, "y": 22, "items": [{"n": 1}, {"n": 2}], "total": Decimal("3001"),
        "due": dt.date(2026, 1, 9), "label": "Nomor 8", "counts": {"0": 0, "1": 1, "2": 2}, "i": 2,
        "_internal": "kept",
    }


def test_failed_script_leaves_data_untouched() -> None:
    data: dict[str, Any] = {"items": [1], "x": 1}
    with pytest.raises(ZeroDivisionError):
        execute("items.append(2)\nx = 2\ny = 1 / 0", data)
    assert data == {"items": [1], "x": 1}


def test_script_must_leave_plain_data() -> None:
    with pytest.raises(SandboxViolation, match="task data 'pairs' holds a zip"):
        execute("pairs = zip([1], [2])", {})
    with pytest.raises(SandboxViolation, match="holds a set"):
        execute("s = {1, 2}", {})
    with pytest.raises(SandboxViolation, match="holds a function"):
        execute("fs = [lambda: 0]", {})


def test_ordinary_errors_propagate_unchanged() -> None:
    with pytest.raises(NameError):
        evaluate("missing > 1", {})
    with pytest.raises(ZeroDivisionError):
        evaluate("1 / 0", {})
    with pytest.raises(KeyError):
        evaluate("d['k']", {"d": {}})
    with pytest.raises(ValueError, match="nope"):
        execute("raise ValueError('nope')", {})


def test_expressions_cannot_change_data() -> None:
    data = {"items": [1]}
    with pytest.raises(SandboxViolation, match="cannot change data"):
        evaluate("items.append(2)", data)
    assert data == {"items": [1]}


def test_simple_condition_costs_microseconds() -> None:
    data = {"approved": True}
    evaluate("approved == True", data)
    runs = 2000
    started = time.perf_counter()
    for _ in range(runs):
        evaluate("approved == True", data)
    assert (time.perf_counter() - started) / runs < 100e-6


BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Definitions_sandbox" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="sandbox_test" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_double" />
    <bpmn:scriptTask id="Task_double" scriptFormat="python">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
      <bpmn:script>y = x * 2</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_double" targetRef="Gateway_1" />
    <bpmn:exclusiveGateway id="Gateway_1" default="Flow_small">
      <bpmn:incoming>Flow_2</bpmn:incoming>
      <bpmn:outgoing>Flow_big</bpmn:outgoing><bpmn:outgoing>Flow_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="Flow_big" sourceRef="Gateway_1" targetRef="Task_escape">
      <bpmn:conditionExpression>y &gt; 10</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_small" sourceRef="Gateway_1" targetRef="Task_rate" />
    <bpmn:scriptTask id="Task_escape" scriptFormat="python">
      <bpmn:incoming>Flow_big</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
      <bpmn:script>z = ().__class__.__base__.__subclasses__()</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:businessRuleTask id="Task_rate">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>rate</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_small</bpmn:incoming><bpmn:outgoing>Flow_4</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_escape" targetRef="EndEvent_1" />
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_rate" targetRef="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_3</bpmn:incoming><bpmn:incoming>Flow_4</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_rate" name="Rate"
    namespace="http://mpp.test/dmn">
  <decision id="rate" name="Rate">
    <decisionTable id="DecisionTable_rate" hitPolicy="UNIQUE">
      <input id="Input_area" label="Area"><inputExpression id="InputExpression_area" typeRef="number">
        <text>area</text></inputExpression></input>
      <input id="Input_kind" label="Kind"><inputExpression id="InputExpression_kind" typeRef="string">
        <text>kind</text></inputExpression></input>
      <output id="Output_rate" label="Rate" name="rate" typeRef="number" />
      <rule id="Rule_small">
        <inputEntry id="In_small_area"><text>? &lt;= 100</text></inputEntry>
        <inputEntry id="In_small_kind"><text>-</text></inputEntry>
        <outputEntry id="Out_small"><text>10000</text></outputEntry>
      </rule>
      <rule id="Rule_big">
        <inputEntry id="In_big_area"><text>&gt; 100</text></inputEntry>
        <inputEntry id="In_big_kind"><text>"hunian"</text></inputEntry>
        <outputEntry id="Out_big"><text>15000 + 500</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def _workflow(data: dict[str, Any]) -> Any:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN.encode())
    parser.add_dmn_str(DMN.encode())
    workflow = BpmnWorkflow(parser.get_spec("sandbox_test"), script_engine=make_script_engine())
    next(iter(workflow.get_tasks(state=TaskState.READY))).data.update(data)
    return workflow


def test_bpmn_script_gateway_and_dmn_run_in_the_sandbox() -> None:
    workflow = _workflow({"x": 3, "area": 150, "kind": "hunian"})
    workflow.do_engine_steps()
    assert workflow.completed
    [rate] = workflow.get_tasks(spec_name="Task_rate")
    assert rate.data["y"] == 6
    assert rate.data["rate"] == 15500


def test_dmn_first_rule_matches_small_area() -> None:
    workflow = _workflow({"x": 1, "area": 80, "kind": "usaha"})
    workflow.do_engine_steps()
    [rate] = workflow.get_tasks(spec_name="Task_rate")
    assert rate.data["rate"] == 10000


def test_bpmn_escape_becomes_a_task_error() -> None:
    workflow = _workflow({"x": 7, "area": 1, "kind": "-"})
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert info.value.error_type == "SandboxViolation"
    assert "__subclasses__" in str(info.value)
    assert isinstance(info.value.__context__, SandboxViolation)
    assert not workflow.completed


def test_bpmn_runtime_violation_in_a_condition_becomes_a_task_error() -> None:
    engine = make_script_engine()
    workflow = _workflow({"x": 3, "area": 1, "kind": "-"})
    workflow.script_engine = engine
    task = next(iter(workflow.get_tasks(state=TaskState.READY)))
    with pytest.raises(WorkflowTaskException) as info:
        engine.evaluate(task, "str.mro() and y > 1")
    assert info.value.error_type == "SandboxViolation"
