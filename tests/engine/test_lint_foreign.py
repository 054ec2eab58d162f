"""Lint on diagrams drawn for other engines (Camunda 7/8, SpiffArena) and on odd BPMN shapes.

Every problem must be a plain sentence that names the element and the fix, in English and
Bahasa Indonesia, never a bare parser error or a Python object address.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from api.cli import app
from engine.bpmn.load import exception_text
from engine.catalogue.package import Package, from_files
from engine.errors import Problem
from engine.lint.foreign import diagram_package, first_process_id, is_cron
from engine.lint.service import lint_package
from tests.engine.test_lint import HEAD, definitions, flow, make, process
from tests.packages import STANDARD

FOREIGN = Path(__file__).resolve().parents[1] / "data" / "foreign"
DIAGRAMS = sorted(FOREIGN.glob("*.bpmn"))
SERVICE = """
key = "{key}"
agency = "dpmptsp"
name = {{ id = "Uji", en = "Test" }}
product = {{ id = "Dokumen", en = "Document" }}
sla_days = 5
channels = ["daring"]
requirements = []

[[agencies]]
code = "dpmptsp"
kind = "city_office"
name = {{ id = "DPMPTSP", en = "One-stop office" }}
"""
# A sentence must not stop on a word that needs a continuation, nor on a colon or comma.
_OPEN_ENDINGS = re.compile(r"(\b(of|to|the|a|an|for|type|and|or|with|in|on|by|from)|[:,;(])$", re.IGNORECASE)


def wrap(path: Path) -> Package:
    raw = path.read_bytes()
    key = first_process_id(etree.fromstring(raw)) or "main"
    return from_files({"service.toml": (SERVICE.format(key=key) + STANDARD).encode(), path.name: raw})


def one_process(body: str, pid: str = "pbg") -> Package:
    return make(bpmn=definitions(process(pid, body)))


def about(problems: list[Problem], element_id: str, *words: str) -> Problem:
    """Return the first problem on element_id whose message has every word."""
    for problem in problems:
        if problem.element_id == element_id and all(w in problem.message for w in words):
            return problem
    raise AssertionError(f"no problem on {element_id} with {words}: {problems}")


def linear(*nodes: str) -> str:
    """Chain StartEvent_1 → nodes (their ids come from id="...") → EndEvent_1."""
    ids = ["StartEvent_1", *(re.search(r'id="([^"]+)"', n).group(1) for n in nodes), "EndEvent_1"]  # type: ignore[union-attr]
    flows = "".join(flow(f"Flow_{i}", a, b) for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    return '<bpmn:startEvent id="StartEvent_1"/>' + "".join(nodes) + '<bpmn:endEvent id="EndEvent_1"/>' + flows


# ---------------------------------------------------------------- the sweep


def test_there_are_enough_foreign_diagrams() -> None:
    assert len(DIAGRAMS) >= 25


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_foreign_diagram_gets_plain_sentences(path: Path) -> None:
    package = wrap(path)
    problems = lint_package(package)  # must not raise
    for problem in problems:
        text = problem.message.strip()
        assert problem.file in package.files or problem.file == "<package>", problem
        assert "at 0x" not in text, problem
        assert "Traceback" not in text, problem
        assert "<Element" not in text, problem
        assert len(text) > 15, problem
        assert not _OPEN_ENDINGS.search(text), problem


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_foreign_diagram_problems_have_indonesian(path: Path) -> None:
    missing = [p.message for p in lint_package(wrap(path)) if not p.message_id.strip()]
    assert missing == []


def test_clean_foreign_shapes_pass() -> None:
    name = "miwg_event_gateway.bpmn"
    problems = [p for p in lint_package(wrap(FOREIGN / name)) if p.file == name and p.severity == "error"]
    assert problems == [], problems


def test_a_foreign_event_subprocess_is_refused_with_the_way_around_it() -> None:
    name = "miwg_event_subprocess.bpmn"
    problems = [p for p in lint_package(wrap(FOREIGN / name)) if p.file == name and p.severity == "error"]
    assert problems
    assert all("event sub-processes are not run reliably" in p.message for p in problems)
    assert all("boundary event" in p.message for p in problems)


# ---------------------------------------------------------------- 1. Camunda expressions


@pytest.mark.parametrize(
    ("condition", "python"),
    [
        ("${amount &gt; 100}", "amount > 100"),
        ("#{!approved &amp;&amp; kind eq 'a b' || score ge 700}", "not approved and kind == 'a b' or score >= 700"),
        ("${empty catatan}", "not catatan"),
        ("${status == 'ok'}", "status == 'ok'"),
    ],
)
def test_juel_condition_gets_a_python_form(condition: str, python: str) -> None:
    body = (
        '<bpmn:startEvent id="StartEvent_1"/><bpmn:exclusiveGateway id="Gateway_1" default="Flow_b"/>'
        '<bpmn:endEvent id="EndEvent_1"/>'
        + flow("Flow_0", "StartEvent_1", "Gateway_1")
        + flow("Flow_a", "Gateway_1", "EndEvent_1", condition)
        + flow("Flow_b", "Gateway_1", "EndEvent_1")
    )
    problem = about(lint_package(one_process(body)), "Flow_a", "JUEL")
    assert problem.message.endswith(f"e.g. {python}")
    assert "SyntaxError" not in problem.message
    assert "JUEL" in problem.message_id
    assert python in problem.message_id


def test_feel_condition_and_juel_loop_values() -> None:
    body = linear(
        '<bpmn:task id="Task_mi"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>${3}'
        "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:task>",
        '<bpmn:exclusiveGateway id="Gateway_1"/>',
    ).replace(
        'targetRef="EndEvent_1">',
        'targetRef="EndEvent_1"><bpmn:conditionExpression>=paid = true</bpmn:conditionExpression>',
    )
    problems = lint_package(one_process(body))
    assert about(problems, "Task_mi", "loop cardinality", "JUEL").message.endswith("e.g. 3")
    assert about(problems, "Flow_2", "FEEL").message.endswith("e.g. paid == True")


# ---------------------------------------------------------------- 2. scripts


@pytest.mark.parametrize(
    ("task", "words"),
    [
        (
            '<bpmn:scriptTask id="Task_s" scriptFormat="groovy"><bpmn:script>def x = 1</bpmn:script></bpmn:scriptTask>',
            ["groovy", "Python", "sandbox"],
        ),
        (
            '<bpmn:scriptTask id="Task_s" scriptFormat="JavaScript"><bpmn:script>x;</bpmn:script></bpmn:scriptTask>',
            ["JavaScript", "Python"],
        ),
        (
            '<bpmn:scriptTask id="Task_s" scriptFormat="javascript" camunda:resource="deployment://a.js"/>',
            ["camunda:resource", "external script files are not supported"],
        ),
        ('<bpmn:scriptTask id="Task_s" scriptFormat="python"/>', ["the script is empty", "write the Python script"]),
    ],
)
def test_script_tasks_that_are_not_python(task: str, words: list[str]) -> None:
    problems = [p for p in lint_package(one_process(linear(task))) if p.element_id == "Task_s"]
    problem = about(problems, "Task_s", *words)
    assert problem.message_id
    assert not [p for p in problems if "SyntaxError" in p.message], problems


def test_python_script_format_is_accepted() -> None:
    task = '<bpmn:scriptTask id="Task_s" scriptFormat="Python"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>'
    assert [p for p in lint_package(one_process(linear(task))) if p.element_id == "Task_s"] == []


# ---------------------------------------------------------------- 3. timers


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        ("timeCycle", "0 0 9 * * ?", ["cron", '"R/P1D"']),
        ("timeCycle", "0 9 * * 1-5", ["cron"]),
        ("timeDuration", "${waitTime}", ["JUEL", "e.g. waitTime"]),
        ("timeDate", "=deadline", ["FEEL", "e.g. deadline"]),
        ("timeDuration", "PT15M", ["quoted", '"PT15M"']),
    ],
)
def test_foreign_timers_get_their_own_fix(kind: str, value: str, words: list[str]) -> None:
    node = (
        f'<bpmn:intermediateCatchEvent id="Event_t"><bpmn:timerEventDefinition id="T1"><bpmn:{kind}>{value}'
        f"</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )
    problem = about(lint_package(one_process(linear(node))), "Event_t", words[0])
    assert all(w in problem.message for w in words), problem
    assert "SyntaxError" not in problem.message
    assert problem.message_id


def test_cron_detection() -> None:
    assert is_cron("0 0 9 * * ?")
    assert is_cron('"0 */5 * * *"')
    assert not is_cron("R/P1D")
    assert not is_cron('"R3/PT1H"')
    assert not is_cron("batas hari ini")


# ---------------------------------------------------------------- 4. service tasks


@pytest.mark.parametrize(
    ("task", "words"),
    [
        ('<bpmn:serviceTask id="Task_s" camunda:class="com.x.Charge"/>', ["camunda:class", "Java classes"]),
        ('<bpmn:serviceTask id="Task_s" camunda:delegateExpression="${d}"/>', ["delegateExpression"]),
        ('<bpmn:serviceTask id="Task_s" camunda:expression="${a.b()}"/>', ["camunda:expression"]),
        ('<bpmn:serviceTask id="Task_s" camunda:type="external" camunda:topic="pay"/>', ["external", "pay"]),
        (
            '<bpmn:serviceTask id="Task_s"><bpmn:extensionElements><camunda:connector><camunda:connectorId>'
            "http-connector</camunda:connectorId></camunda:connector></bpmn:extensionElements></bpmn:serviceTask>",
            ["camunda:connector", "http-connector"],
        ),
        ('<bpmn:serviceTask id="Task_s"/>', ["names no operation"]),
    ],
)
def test_camunda_service_tasks_are_explained(task: str, words: list[str]) -> None:
    problem = about(lint_package(one_process(linear(task))), "Task_s", *words)
    assert "serviceTaskOperator" in problem.message
    assert "operation the platform provides" in problem.message
    assert problem.message_id


def test_spiffarena_service_parameters_are_not_duplicate_ids() -> None:
    def task(task_id: str) -> str:
        params = "".join(f'<spiffworkflow:parameter id="{n}" type="str" value="{n}"/>' for n in ("nik", "nama"))
        return (
            f'<bpmn:serviceTask id="{task_id}"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator '
            f'id="disdukcapil.serahkan" resultVariable="r"><spiffworkflow:parameters>{params}'
            "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"
        )

    problems = lint_package(one_process(linear(task("Task_a"), task("Task_b"))))
    assert not [p for p in problems if "more than one element" in p.message], problems


# ---------------------------------------------------------------- 5. unclear messages


def test_flow_with_a_missing_end_says_which() -> None:
    body = linear('<bpmn:task id="Task_a"/>') + '<bpmn:sequenceFlow id="Flow_x" sourceRef="StartEvent_1"/>'
    problem = about(lint_package(one_process(body)), "Flow_x", "has no end", "targetRef")
    assert "''" not in problem.message
    assert problem.message_id


def test_flow_leaving_its_subprocess_names_both_places() -> None:
    inner = (
        '<bpmn:subProcess id="Sub_1"><bpmn:startEvent id="StartEvent_s"/><bpmn:endEvent id="EndEvent_s"/>'
        + flow("Flow_s", "StartEvent_s", "EndEvent_s")
        + flow("Flow_out", "StartEvent_s", "EndEvent_1")
        + "</bpmn:subProcess>"
    )
    problem = about(lint_package(one_process(linear(inner))), "Flow_out", "subProcess 'Sub_1'", "process 'pbg'")
    assert "message flow" in problem.message


def test_event_based_gateway_followed_by_a_gateway() -> None:
    body = (
        '<bpmn:startEvent id="StartEvent_1"/><bpmn:eventBasedGateway id="Gateway_e"/>'
        '<bpmn:exclusiveGateway id="Gateway_x" default="Flow_3"/><bpmn:endEvent id="EndEvent_1"/>'
        + flow("Flow_1", "StartEvent_1", "Gateway_e")
        + flow("Flow_2", "Gateway_e", "Gateway_x")
        + flow("Flow_3", "Gateway_x", "EndEvent_1")
    )
    problems = lint_package(one_process(body))
    about(problems, "Gateway_e", "event-based gateway", "Gateway_x", "catch event")
    assert not [p for p in problems if "event_definition" in p.message], problems


def test_task_with_two_outgoing_flows_is_explained_before_spiffworkflow() -> None:
    body = (
        '<bpmn:startEvent id="StartEvent_1"/><bpmn:task id="Task_a"/><bpmn:endEvent id="EndEvent_1"/>'
        + flow("Flow_1", "StartEvent_1", "Task_a")
        + flow("Flow_2", "Task_a", "EndEvent_1")
        + flow("Flow_3", "Task_a", "EndEvent_1")
    )
    problems = lint_package(one_process(body))
    about(problems, "Task_a", "2 outgoing sequence flows", "gateway")
    assert not [p for p in problems if "SpiffWorkflow" in p.message], problems


def test_boundary_event_on_a_gateway() -> None:
    body = linear('<bpmn:exclusiveGateway id="Gateway_x"/>') + (
        '<bpmn:boundaryEvent id="Event_b" attachedToRef="Gateway_x"><bpmn:timerEventDefinition id="T1">'
        '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
        '<bpmn:endEvent id="EndEvent_b"/>' + flow("Flow_b", "Event_b", "EndEvent_b")
    )
    about(lint_package(one_process(body)), "Event_b", "Gateway_x", "tasks, sub-processes and call activities")


def test_multi_instance_with_camunda_collection() -> None:
    task = (
        '<bpmn:task id="Task_mi"><bpmn:multiInstanceLoopCharacteristics camunda:collection="${reviewers}" '
        'camunda:elementVariable="reviewer"/></bpmn:task>'
    )
    problem = about(lint_package(one_process(linear(task))), "Task_mi", "camunda:collection")
    assert "loopDataInputRef) to reviewers" in problem.message
    assert "to reviewer" in problem.message


def test_exception_text_keeps_every_argument_and_hides_addresses() -> None:
    element = etree.fromstring(HEAD.encode() + b'<bpmn:task id="Task_a"/></bpmn:definitions>')[0]
    wrapped = ValueError(f"Cannot resolve dataInputAssociation {element!r}")
    assert "at 0x" not in exception_text(wrapped)
    assert "<bpmn:task>" in exception_text(wrapped)
    repr_style = ValueError("NotImplementedError('Unsupported Catch Event: %r', b'<boundaryEvent id=\"E1\"/>')")
    assert exception_text(repr_style) == "NotImplementedError: Unsupported Catch Event: <bpmn:boundaryEvent> 'E1'"
    assert exception_text(KeyError("a", "b")) == "a b"
    assert "0x" not in exception_text(TypeError(f"bad {object()!r}"))


# ---------------------------------------------------------------- the command line


def test_cli_lints_a_bare_diagram_in_both_languages(tmp_path: Path) -> None:
    target = tmp_path / "loan.bpmn"
    target.write_bytes((FOREIGN / "c7_juel_gateway.bpmn").read_bytes())
    runner = CliRunner()
    english = runner.invoke(app, ["lint", "--lang", "en", str(target)])
    indonesian = runner.invoke(app, ["lint", str(target)])
    assert english.exit_code == 1
    assert indonesian.exit_code == 1
    assert "JUEL" in english.output
    assert "error:" in english.output
    assert "galat:" in indonesian.output
    assert "tidak didukung" in indonesian.output
    assert "service.toml" not in english.output


def test_bare_diagram_skips_what_the_analyst_did_not_write(tmp_path: Path) -> None:
    target = tmp_path / "forms.bpmn"
    target.write_bytes((FOREIGN / "spiff_scripts_forms.bpmn").read_bytes())
    output = CliRunner().invoke(app, ["lint", "--lang", "en", str(target)]).output
    assert "is not in the package" not in output
    assert "service.toml" not in output
    assert "post-script of 'Task_form'" in output
    assert diagram_package("x.bpmn", b"<not xml").files["service.toml"].startswith(b'key = "main"')
