"""Lint rules on the content of diagrams: expressions, timers, DMN cells, flow and call graphs.

Each public function looks at parsed XML and returns the problems it finds; `engine.lint.service`
decides which to run and collects the results.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import Any

from engine.bpmn import conventions as cv
from engine.bpmn.conventions import BPMN_NS, FLOW_NODES, NSMAP
from engine.errors import Problem
from engine.lint.foreign import foreign_expression, foreign_problems, timer_problem, unquoted_timer_problem
from engine.lint.names import DMN_INPUT, DMN_QUESTION

Checker = Callable[[str], "str | None"]

# (xpath, description, kind): kind is expression, script, name or timer.
EXPRESSION_SITES: tuple[tuple[str, str, str], ...] = (
    (".//bpmn:sequenceFlow/bpmn:conditionExpression", "condition", "expression"),
    (".//bpmn:extensionElements/spiffworkflow:preScript", "pre-script", "script"),
    (".//bpmn:extensionElements/spiffworkflow:postScript", "post-script", "script"),
    (".//bpmn:timerEventDefinition/bpmn:timeDuration", "timeDuration", "timer"),
    (".//bpmn:timerEventDefinition/bpmn:timeDate", "timeDate", "timer"),
    (".//bpmn:timerEventDefinition/bpmn:timeCycle", "timeCycle", "timer"),
    (".//bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality", "loop cardinality", "expression"),
    (".//bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataInputRef", "loop input collection", "name"),
    (".//bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataOutputRef", "loop output collection", "name"),
    (".//bpmn:multiInstanceLoopCharacteristics/bpmn:completionCondition", "completion condition", "expression"),
    (".//bpmn:standardLoopCharacteristics/bpmn:loopCondition", "loop condition", "expression"),
    (".//bpmn:conditionalEventDefinition/bpmn:condition", "event condition", "expression"),
    (".//spiffworkflow:messagePayload", "message payload", "expression"),
    (".//spiffworkflow:messageVariable", "message variable", "name"),
    (".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", "correlation expression", "expression"),
    (".//bpmn:correlationPropertyRetrievalExpression/bpmn:messagePath", "correlation expression", "expression"),
    (".//spiffworkflow:processVariableCorrelation/spiffworkflow:expression", "correlation expression", "expression"),
    (".//spiffworkflow:payloadExpression", "payload expression", "expression"),
    (".//spiffworkflow:variableName", "variable name", "name"),
)
# Wrappers that carry no meaningful id for a modeller; problems name the element around them.
_WRAPPER_SUFFIXES = ("EventDefinition", "LoopCharacteristics", "Expression", "extensionElements")
# The task tree is walked recursively: a loop repeated hundreds of times breaks it.
MAX_LOOP = 100



def bpmn_tag(local: str) -> str:
    """Return the namespaced tag of a BPMN model element."""
    return f"{{{BPMN_NS}}}{local}"


def split_tag(tag: Any) -> tuple[str | None, str]:
    """Split an lxml tag into (namespace, local name); comments and PIs have no namespace."""
    if not isinstance(tag, str):
        return None, str(tag)
    if tag.startswith("{"):
        namespace, local = tag[1:].split("}", 1)
        return namespace, local
    return None, tag


def element_ref(element: Any) -> str | None:
    """Return the id of an element, or of its nearest ancestor that has one."""
    while element is not None:
        if element.get("id"):
            return str(element.get("id"))
        element = element.getparent()
    return None


def owner_ref(element: Any) -> str | None:
    """Return the id of the flow element (or message, rule...) that holds an element."""
    node = element.getparent()
    while node is not None:
        if node.get("id") and not split_tag(node.tag)[1].endswith(_WRAPPER_SUFFIXES):
            return str(node.get("id"))
        node = node.getparent()
    return element_ref(element)


def _sandbox() -> tuple[Checker, Checker]:
    # Imported late: reading and deploying packages must not depend on the sandbox module's
    # import cost or order; only checking expressions does.
    from engine.bpmn.sandbox import check_expression, check_script

    return check_expression, check_script


# ---------------------------------------------------------------- BPMN expressions


def expression_problems(file: str, root: Any) -> list[Problem]:
    """Check every expression, script, data name, loop and timer of a BPMN document."""
    check_expression, check_script = _sandbox()
    out: list[Problem] = []
    for xpath, what, kind in EXPRESSION_SITES:
        for element in root.xpath(xpath, namespaces=NSMAP):
            where = owner_ref(element)
            text = (element.text or "").strip()
            if kind == "timer":
                out += _timer_problems(file, where, what, element.text or "", check_expression)
            elif kind != "script" and (foreign := foreign_expression(what, where, text, check_expression)):
                out.append(Problem(file, where, foreign[0], "error", foreign[1]))
            elif kind == "script":
                error = check_script(element.text or "") if text else "the script is empty"
                if error:
                    out.append(Problem(file, where, f"{what} of '{where}': {error}"))
            elif kind == "name" and text and not cv.is_identifier(element.text):
                out.append(Problem(file, where, f"{what} of '{where}' must be a plain data name, not '{element.text}'"))
            # The raw text goes to the sandbox: it is what the engine will evaluate.
            elif kind == "expression" and text and (error := check_expression(element.text)):
                out.append(Problem(file, where, f"{what} of '{where}': {error}"))
    # Script tasks are checked with the other foreign-dialect rules (format, resource, body).
    return out + _loop_problems(file, root) + foreign_problems(file, root, check_script)


def _loop_problems(file: str, root: Any) -> list[Problem]:
    out: list[Problem] = []
    items = "./*[self::bpmn:inputDataItem or self::bpmn:outputDataItem]"
    for loop in root.iter(bpmn_tag("multiInstanceLoopCharacteristics")):
        for item in loop.xpath(items, namespaces=NSMAP):
            if not cv.is_identifier(item.get("id", "")):
                where = owner_ref(item)
                out.append(
                    Problem(
                        file,
                        where,
                        f"loop item of '{where}' must have a plain data name as id, not '{item.get('id', '')}'",
                    )
                )
    for loop in root.iter(bpmn_tag("standardLoopCharacteristics")):
        where, maximum = owner_ref(loop), (loop.get("loopMaximum") or "").strip()
        if not (maximum.isdecimal() and 0 < int(maximum) <= MAX_LOOP):
            out.append(
                Problem(
                    file,
                    where,
                    f"loop of '{where}' should set loopMaximum between 1 and {MAX_LOOP}; "
                    "the engine stops a case that loops hundreds of times",
                    "warning",
                )
            )
    return out


def _timer_problems(file: str, where: str | None, kind: str, raw: str, check: Checker) -> list[Problem]:
    text = raw.strip()
    if not text:
        return [Problem(file, where, f"the timer of '{where}' has no {kind} value")]
    if foreign := timer_problem(file, where, kind, text, check):
        return [foreign]
    if cv.looks_like_unquoted_iso(text):
        return [unquoted_timer_problem(file, where, kind, text)]
    if error := check(raw):
        return [Problem(file, where, f"the timer of '{where}': {error}")]
    literal = _string_literal(text)
    if literal is None:
        return []  # computed at run time; nothing more to check here
    if error := cv.timer_literal_error(kind, literal):
        return [Problem(file, where, f"the timer of '{where}': {error}")]
    return []  # a date-time without an offset means WIB (engine/bpmn/timers.py)


def _string_literal(text: str) -> str | None:
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


# ---------------------------------------------------------------- DMN


def dmn_problems(file: str, root: Any) -> list[Problem]:
    """Check the input expressions and rule cells of every decision table in a DMN document."""
    check_expression, _ = _sandbox()
    ns = split_tag(root.tag)[0]
    out: list[Problem] = []
    for table in root.iter(f"{{{ns}}}decisionTable"):
        inputs = table.findall(f"{{{ns}}}input")
        for column in inputs:
            text, where = _text(column.find(f"{{{ns}}}inputExpression/{{{ns}}}text")), column.get("id")
            error = check_expression(text) if text else "it has no expression"
            if error:
                out.append(Problem(file, where, f"decision input '{where}': {error}"))
        for rule in table.findall(f"{{{ns}}}rule"):
            entries = rule.findall(f"{{{ns}}}inputEntry")
            if len(entries) != len(inputs):
                out.append(
                    Problem(
                        file,
                        rule.get("id"),
                        f"rule '{rule.get('id')}' has {len(entries)} input "
                        f"cells but the table has {len(inputs)} inputs",
                    )
                )
            cells = [(e, _dmn_input_error(_text(e.find(f"{{{ns}}}text")), check_expression)) for e in entries]
            for entry in rule.findall(f"{{{ns}}}outputEntry"):
                text = _text(entry.find(f"{{{ns}}}text"))
                cells.append((entry, check_expression(text) if text else None))
            for entry, error in cells:
                if error:
                    where = entry.get("id") or element_ref(entry)
                    out.append(Problem(file, where, f"decision cell '{where}': {error}"))
    return out


def _text(element: Any) -> str:
    return (element.text or "").strip() if element is not None else ""


def _dmn_input_error(text: str, check: Checker) -> str | None:
    """Check an input cell the way SpiffWorkflow reads it: a value, a test like `< 5`, or `?`."""
    if text in ("", "-"):
        return None  # "any value"
    replaced = DMN_QUESTION.sub(DMN_INPUT, text)
    if replaced != text:
        return check(replaced)
    error = check(text)
    if error is None or check(f"dmn_input {text}") is None:
        return None
    return error


# ---------------------------------------------------------------- flow graph


def reachability_problems(file: str, root: Any) -> list[Problem]:
    """Report flow nodes no start event reaches, and nodes with no way on to an end event."""
    out: list[Problem] = []
    for container in root.iter(bpmn_tag("process"), bpmn_tag("subProcess"), bpmn_tag("transaction")):
        out += _container_problems(file, container)
    return out


def _container_problems(file: str, container: Any) -> list[Problem]:
    cid, kind = container.get("id", ""), split_tag(container.tag)[1]
    nodes = {n.get("id"): n for n in container if split_tag(n.tag)[1] in FLOW_NODES and n.get("id")}
    out: list[Problem] = []
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for source, target, ref in _edges(container, nodes):
        if source not in nodes or target not in nodes:
            out.append(_flow_end_problem(file, container, ref, source, target))
            continue
        succ[source].append(target)
        pred[target].append(source)
    starts = [i for i, n in nodes.items() if split_tag(n.tag)[1] == "startEvent"]
    ends = [i for i, n in nodes.items() if split_tag(n.tag)[1] == "endEvent"]
    out += [
        Problem(file, cid, f"{kind} '{cid}' has no {what}")
        for what, found in (("start event", starts), ("end event", ends))
        if not found
    ]
    if not starts or not ends:
        return out
    # Event sub-processes start by themselves and finish inside; they need no flows.
    triggered = [i for i, n in nodes.items() if n.get("triggeredByEvent") == "true"]
    reached, finishing = _closure(starts + triggered, succ), _closure(ends + triggered, pred)
    for node_id in nodes:
        if node_id not in reached:
            out.append(Problem(file, node_id, f"'{node_id}' cannot be reached from a start event of {kind} '{cid}'"))
        elif node_id not in finishing:
            out.append(Problem(file, node_id, f"'{node_id}' has no path to an end event of {kind} '{cid}'"))
    return out


_CONTAINERS_ID = {"process": "proses", "subProcess": "sub-proses", "transaction": "transaksi"}


def _place(container: Any, node_id: str) -> tuple[str, str]:
    """Say in English and Indonesian where an element lies: its process or sub-process."""
    found = container.getroottree().getroot().xpath("//*[@id=$id]", id=node_id) if node_id else []
    node = found[0].getparent() if found else None
    while node is not None and split_tag(node.tag)[1] not in _CONTAINERS_ID:
        node = node.getparent()
    if node is None:
        return "which is no element of this file", "yang bukan elemen di berkas ini"
    kind = split_tag(node.tag)[1]
    return f"in {kind} '{node.get('id')}'", f"di {_CONTAINERS_ID[kind]} '{node.get('id')}'"


def _flow_end_problem(file: str, container: Any, ref: str, source: str, target: str) -> Problem:
    """Explain a sequence flow with a missing end, or one that leaves its process or sub-process."""
    missing = [
        (attr, end) for attr, end, value in (("sourceRef", "start", source), ("targetRef", "end", target)) if not value
    ]
    if missing:
        attr, end = missing[0]
        end_id = "awal" if end == "start" else "ujung"
        return Problem(
            file,
            ref,
            f"sequence flow '{ref}' has no {end} ({attr} is empty): connect its {end} to a flow node or delete it",
            "error",
            f"sequence flow '{ref}' tidak punya {end_id} ({attr} kosong): sambungkan {end_id}nya ke sebuah "
            "flow node atau hapus alur itu",
        )
    (source_en, source_id), (target_en, target_id) = _place(container, source), _place(container, target)
    return Problem(
        file,
        ref,
        f"sequence flow '{ref}' connects '{source}' ({source_en}) to '{target}' ({target_en}): a sequence flow "
        "must stay inside one process or sub-process; end the sub-process with an end event and continue from "
        "the sub-process itself, and between pools use a message flow",
        "error",
        f"sequence flow '{ref}' menghubungkan '{source}' ({source_id}) ke '{target}' ({target_id}): sequence "
        "flow harus tetap di dalam satu proses atau sub-proses; akhiri sub-proses dengan end event dan lanjutkan "
        "dari sub-proses itu sendiri, dan antar-pool gunakan message flow",
    )


def _edges(container: Any, nodes: dict[str, Any]) -> Iterable[tuple[str, str, str]]:
    for flow in container.findall(bpmn_tag("sequenceFlow")):
        yield flow.get("sourceRef", ""), flow.get("targetRef", ""), flow.get("id", "")
    # A boundary event fires only while its activity runs: reaching one reaches the other, and
    # an activity whose only way out is its boundary event still finishes.
    for node_id, node in nodes.items():
        if split_tag(node.tag)[1] == "boundaryEvent":
            yield node.get("attachedToRef", ""), node_id, node_id


def _closure(starts: list[str], graph: dict[str, list[str]]) -> set[str]:
    seen = set(starts)
    stack = list(starts)
    while stack:
        for nxt in graph.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


# ---------------------------------------------------------------- call graph

CallEdge = tuple[str, str, str]  # (file, call activity id, called process id)


def call_problems(documents: list[tuple[str, Any]]) -> list[Problem]:
    """Check that call activities call processes of the package and never form a cycle."""
    processes = {p.get("id") for _file, root in documents for p in root.iter(bpmn_tag("process"))}
    calls: dict[str, list[CallEdge]] = {}
    out: list[Problem] = []
    for file, root in documents:
        for process in root.iter(bpmn_tag("process")):
            for call in process.iter(bpmn_tag("callActivity")):
                call_id, called = call.get("id", ""), (call.get("calledElement") or "").strip()
                if not called:
                    out.append(Problem(file, call_id, f"call activity '{call_id}' does not name the process it calls"))
                elif called not in processes:
                    out.append(
                        Problem(
                            file,
                            call_id,
                            f"call activity '{call_id}' calls process '{called}', which is not in this package",
                        )
                    )
                else:
                    calls.setdefault(process.get("id"), []).append((file, call_id, called))
    for caller, edges in calls.items():
        for file, call_id, called in edges:
            path = _call_path(calls, called, caller)
            if path is not None:
                cycle = " → ".join([caller, *path])
                out.append(
                    Problem(
                        file,
                        call_id,
                        f"call activity '{call_id}' creates a call cycle: {cycle} (the case would never finish)",
                    )
                )
    return out


def _call_path(calls: dict[str, list[CallEdge]], start: str, goal: str) -> list[str] | None:
    """Return the process ids from start to goal along calls, or None when goal is not reached."""
    parents: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        current = queue.pop(0)
        if current == goal:
            path: list[str] = []
            step: str | None = current
            while step is not None:
                path.append(step)
                step = parents[step]
            return path[::-1]
        for _file, _call, nxt in calls.get(current, []):
            if nxt not in parents:
                parents[nxt] = current
                queue.append(nxt)
    return None
