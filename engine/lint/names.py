"""Which case-data names a piece of package code reads and which it sets, read from its syntax.

The data-flow model (`engine.lint.dataflow`) asks these questions of every script, condition and
template; answering them from the AST keeps lint free of running anything.
"""

from __future__ import annotations

import ast
import functools
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

# Helpers the runtime adds to every script (engine/runtime.py build_runtime); not case data.
RUNTIME_HELPERS = frozenset({"add_working_days", "working_days_between", "today", "now", "after_working_days",
                             "add_working_hours", "after_working_hours"})


@functools.cache
def platform_names() -> frozenset[str]:
    """Return the names a sandboxed script sees that are not case data (builtins and helpers)."""
    from engine.bpmn.sandbox import script_names

    return frozenset(script_names()) | RUNTIME_HELPERS


@dataclass
class ScriptEffect:
    """What one script reads before setting it, and what it sets for sure or on some paths."""

    reads: set[str] = field(default_factory=set)
    surely: set[str] = field(default_factory=set)
    maybe: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    constants: dict[str, set[Any]] = field(default_factory=dict)  # name -> literal values assigned


def parse_expression(source: str) -> ast.Expression | None:
    """Parse an expression, or None when it is not Python (other rules report that)."""
    try:
        return ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return None


def expression_reads(source: str) -> set[str]:
    """Return the data names an expression loads (helpers, builtins and local names left out)."""
    tree = parse_expression(source)
    return set() if tree is None else _data_names(_free_loads(tree))


def _data_names(names: set[str]) -> set[str]:
    # Names starting with "_" are refused by the sandbox with their own message; not data.
    return {n for n in names - platform_names() if not n.startswith("_")}


def _bound_locally(tree: ast.AST) -> set[str]:
    """Names bound inside comprehensions, lambdas and local functions of a tree."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            bound |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Lambda | ast.FunctionDef):
            bound |= {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
            if node.args.vararg:
                bound.add(node.args.vararg.arg)
            if node.args.kwarg:
                bound.add(node.args.kwarg.arg)
            if isinstance(node, ast.FunctionDef):
                bound.add(node.name)
                bound |= _stored(node.body)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.NamedExpr):
            bound.add(node.target.id)
    return bound


def _free_loads(tree: ast.AST) -> set[str]:
    loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loads - _bound_locally(tree)


def _stored(stmts: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names


def script_effect(source: str) -> ScriptEffect | None:
    """Return what a script reads and sets, or None when it is not Python."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    effect = ScriptEffect()
    _block(tree.body, set(), effect, surely=True)
    effect.reads = _data_names(effect.reads)
    effect.maybe -= effect.surely
    return effect


def _block(stmts: list[ast.stmt], defined: set[str], effect: ScriptEffect, *, surely: bool) -> set[str]:
    """Walk statements in order; return the names this block sets on every path through it."""
    sets: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, ast.If):
            effect.reads |= _free_loads(stmt.test) - defined
            body = _block(stmt.body, set(defined), effect, surely=False)
            orelse = _block(stmt.orelse, set(defined), effect, surely=False)
            both = body & orelse
            defined |= both
            sets |= both
            if surely:
                effect.surely |= both
            continue
        if isinstance(stmt, ast.FunctionDef):
            # A local helper: its free names are read when it is called, its name is not data.
            effect.reads |= _free_loads(stmt) - defined - _bound_locally(stmt)
            defined.add(stmt.name)
            continue
        compound = isinstance(stmt, ast.For | ast.While | ast.Try | ast.AsyncFor | ast.With)
        stored = _stored([stmt]) - _bound_locally(stmt)
        loads = _free_loads(stmt)
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            loads.add(stmt.target.id)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign):
            loads = _free_loads(stmt.value) if stmt.value is not None else set()
        effect.reads |= loads - defined - (stored if compound else set())
        if isinstance(stmt, ast.Delete):
            gone = {t.id for t in stmt.targets if isinstance(t, ast.Name)}
            effect.removed |= gone
            effect.surely -= gone
            defined -= gone
            sets -= gone
            continue
        _constants(stmt, effect)
        defined |= stored
        if compound:
            effect.maybe |= stored
            continue
        sets |= stored
        if surely:
            effect.surely |= stored
    if not surely:
        effect.maybe |= sets
    return sets


def _constants(stmt: ast.stmt, effect: ScriptEffect) -> None:
    if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                effect.constants.setdefault(target.id, set()).add(stmt.value.value)


def template_reads(source: str) -> set[str]:
    """Return the case-data fields a Jinja2 template reads as `data.x`, `data['x']` or `label('x')`."""
    from jinja2 import nodes
    from jinja2.exceptions import TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        tree = SandboxedEnvironment().parse(source)
    except TemplateSyntaxError:
        return set()  # the template rules report the syntax error
    found: set[str] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        target = getattr(node, "node", None)
        if not (isinstance(target, nodes.Name) and target.name == "data"):
            continue
        if isinstance(node, nodes.Getattr):
            found.add(str(node.attr))
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            found.add(node.arg.value)
    for call in tree.find_all(nodes.Call):  # a document template's label('x'): the label of data.x
        if (isinstance(call.node, nodes.Name) and call.node.name == "label" and call.args
                and isinstance(call.args[0], nodes.Const) and isinstance(call.args[0].value, str)):
            found.add(call.args[0].value)
    return found


DICT_METHODS = frozenset(name for name in dir(dict) if not name.startswith("_"))


def member_reads(source: str) -> set[tuple[str, str, bool]]:
    """Return (name, key, tolerant) for each key code reads from an object field: `x["k"]`, `x.k`, `x.get("k")`.

    `tolerant` is True for `x.get("k")`, which copes with a missing key. Names bound or assigned
    inside the code itself are left out: their keys are not the case's.
    """
    try:
        tree: ast.AST = ast.parse(textwrap.dedent(source).strip())
    except (SyntaxError, ValueError):
        return set()
    local = _bound_locally(tree) | (_stored(tree.body) if isinstance(tree, ast.Module) else set())
    found: set[tuple[str, str, bool]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.ctx, ast.Load):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                found.add((node.value.id, key.value, False))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and isinstance(node.func.value, ast.Name) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.add((node.func.value.id, node.args[0].value, True))
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and isinstance(node.ctx, ast.Load)
              and node.attr not in DICT_METHODS):
            found.add((node.value.id, node.attr, False))
    return {(name, key, tolerant) for name, key, tolerant in found if name not in local}


Fact = tuple[str, frozenset[Any]]  # a field and the values it surely has on a flow


def equality_facts(source: str) -> list[Fact]:
    """Return what a condition proves when true: `k == v`, `k in (a, b)`, joined by `and`."""
    tree = parse_expression(source)
    if tree is None:
        return []
    parts = tree.body.values if isinstance(tree.body, ast.BoolOp) and isinstance(tree.body.op, ast.And) else [tree.body]
    facts: list[Fact] = []
    for part in parts:
        if not (isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.left, ast.Name)):
            continue
        right, op = part.comparators[0], part.ops[0]
        if isinstance(op, ast.Eq) and isinstance(right, ast.Constant):
            facts.append((part.left.id, frozenset([right.value])))
        elif isinstance(op, ast.In) and isinstance(right, ast.Tuple | ast.List | ast.Set):
            values = [e.value for e in right.elts if isinstance(e, ast.Constant)]
            if len(values) == len(right.elts):
                facts.append((part.left.id, frozenset(values)))
        elif isinstance(op, ast.Is) and isinstance(right, ast.Constant):
            facts.append((part.left.id, frozenset([right.value])))
    return facts


def called_names(source: str) -> set[str]:
    """Return names a script or expression uses as functions or modules (`map(...)`, `time.time()`)."""
    try:
        tree: ast.AST = ast.parse(textwrap.dedent(source).strip())
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            found.add(node.func.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found.add(node.value.id)
    return found


# SpiffWorkflow's DMN engine replaces `?` outside quotes with the input value, and puts the
# input in front of a cell that starts with an operator (`< 5`).
DMN_INPUT = "dmn_input"
DMN_QUESTION = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


def dmn_cell_source(text: str) -> str | None:
    """Return a DMN cell as the Python SpiffWorkflow evaluates, with the input named `dmn_input`; None for "-"."""
    text = text.strip()
    if text in ("", "-"):
        return None
    replaced = DMN_QUESTION.sub(DMN_INPUT, text)
    if replaced != text or parse_expression(text) is not None:
        return replaced
    return f"{DMN_INPUT} {text}"
