"""Lint rules on the values code compares fields with: enums, literal types, timer values, DMN cells.

`engine.lint.data` finds where data is read; the checks here look at what is compared or
computed there, using the types and allowed values the data-flow model knows for each field.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from typing import Any

from engine.bpmn import conventions as cv
from engine.errors import Problem
from engine.lint.dataflow import Model
from engine.lint.diagram import bpmn_tag, owner_ref, split_tag
from engine.lint.names import Fact, dmn_cell_source, parse_expression


@dataclass(frozen=True)
class Read:
    """One place that reads case data: where, what it is (en, id), the state it sees, the names."""

    file: str
    element_id: str | None  # the element reported
    what_en: str
    what_id: str
    names: frozenset[str]
    point: str = "before"  # "before" or "after" the element
    expression: str | None = None  # for enum and type checks
    facts: tuple[Fact, ...] = ()  # what holds when this read happens (earlier `and` terms)
    partial_ok: bool = False  # a field missing on some paths is handled (printed empty, numbered)
    source: str = ""  # the code read, to tell a missing function from a missing field
    at: str = ""  # the flow element whose state applies, when it is not element_id

    @property
    def point_id(self) -> str:
        """Return the flow element whose state this read sees."""
        return self.at or self.element_id or ""


_EQUALITY = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)


def comparison_problems(model: Model, read: Read) -> list[Problem]:
    """Check `field == literal`, `field in (...)` in a read's expression against the field's enum and type."""
    tree = parse_expression(read.expression or "")
    if tree is None:
        return []
    out: list[Problem] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], _EQUALITY):
            pair = _name_and_literals(node.left, node.comparators[0], node.ops[0])
            if pair is not None:
                out += _literal_problems(model, read, *pair)
    return out


def _name_and_literals(left: ast.expr, right: ast.expr, op: ast.cmpop) -> tuple[str, list[Any]] | None:
    if isinstance(op, ast.In | ast.NotIn):
        if isinstance(left, ast.Name):
            values = _literals(right)
            return (left.id, values) if values is not None else None
        return None
    for name, other in ((left, right), (right, left)):
        if isinstance(name, ast.Name) and isinstance(other, ast.Constant):
            return name.id, [other.value]
    return None


def _literals(node: ast.expr) -> list[Any] | None:
    if isinstance(node, ast.Tuple | ast.List | ast.Set) and all(isinstance(e, ast.Constant) for e in node.elts):
        return [e.value for e in node.elts if isinstance(e, ast.Constant)]
    return None


def _literal_problems(model: Model, read: Read, name: str, values: list[Any]) -> list[Problem]:
    enum = model.enum_of(name)
    types = model.types_of(name)
    out: list[Problem] = []
    for value in values:
        if value is None:
            continue
        if enum is not None and value not in enum:
            out.append(_enum_problem(read, name, value, enum))
        elif types and not _fits(value, types):
            out.append(Problem(
                read.file, read.element_id,
                f"{read.what_en} compares the field '{name}' ({'/'.join(sorted(types))}) with {value!r}, "
                f"a value of another type; the comparison would never be true.",
                "error",
                f"{read.what_id} membandingkan isian '{name}' ({'/'.join(sorted(types))}) dengan {value!r}, "
                "nilai berjenis lain; perbandingan itu tidak akan pernah benar.",
            ))
    return out


def _enum_problem(read: Read, name: str, value: Any, enum: frozenset[Any]) -> Problem:
    allowed = ", ".join(repr(v) for v in sorted(enum, key=str))
    hint_en, hint_id = did_you_mean(str(value), [str(v) for v in enum])
    return Problem(
        read.file, read.element_id,
        f"{read.what_en} compares the field '{name}' with {value!r}, which is not one of its values "
        f"({allowed}).{hint_en}",
        "error",
        f"{read.what_id} membandingkan isian '{name}' dengan {value!r}, yang bukan salah satu nilainya "
        f"({allowed}).{hint_id}",
    )


def did_you_mean(name: str, candidates: list[str]) -> tuple[str, str]:
    """Return " Did you mean 'x'?" in English and Indonesian for the closest candidate, or empty texts."""
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return (f" Did you mean '{close[0]}'?", f" Maksud Anda '{close[0]}'?") if close else ("", "")


def _fits(value: Any, types: frozenset[str]) -> bool:
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int | float):
        return bool(types & {"number", "integer"})
    if isinstance(value, str):
        return "string" in types
    return True


# What each timer kind accepts (engine/bpmn/timers.py), and what common helpers and literals give.
_TIMER_ACCEPTS = {"timeDuration": {"str", "timedelta"}, "timeDate": {"str", "datetime", "date"},
                  "timeCycle": {"str"}}
_CALL_TYPES = {"timedelta": "timedelta", "add_working_days": "date", "after_working_days": "datetime",
               "now": "datetime", "today": "date", "date": "date", "str": "str", "int": "number", "float": "number",
               "len": "number", "round": "number", "sum": "number", "money": "number", "Decimal": "number",
               "working_days_between": "number", "bool": "bool", "add_working_hours": "datetime",
               "after_working_hours": "datetime"}
_JSON_TYPES = {"string": "str", "integer": "number", "number": "number", "boolean": "bool"}
_TIMER_FIX = {
    ("timeDuration", "date"): ("it gives a date, not a duration. For a deadline in working days use a timeDate "
                               "such as after_working_days(3) (the SLA calendar skips weekends and holidays)",
                               "hasilnya tanggal, bukan durasi. Untuk tenggat dalam hari kerja pakai timeDate seperti "
                               "after_working_days(3) (kalender SLA melewati akhir pekan dan hari libur)"),
    ("timeDate", "timedelta"): ("it gives a duration, not a date: move it to a timeDuration, or write "
                                "now() + timedelta(...)",
                                "hasilnya durasi, bukan tanggal: pindahkan ke timeDuration, atau tulis "
                                "now() + timedelta(...)"),
}


def timer_type_problems(model: Model, bpmn: list[tuple[str, Any]]) -> list[Problem]:
    """Refuse timer expressions whose value is surely of a type their kind cannot take."""
    out: list[Problem] = []
    for file, root in bpmn:
        for kind, accepts in _TIMER_ACCEPTS.items():
            for timer in root.iter(bpmn_tag(kind)):
                tree = parse_expression(timer.text or "")
                if tree is None or cv.looks_like_unquoted_iso(timer.text or ""):
                    continue
                found = _value_types(tree.body, model)
                if "unknown" in found or found & accepts or not found:
                    continue
                got = sorted(found)[0]
                key = (kind, "date" if got == "datetime" else got)
                fix_en, fix_id = _TIMER_FIX.get(key, (
                    f"a {kind} must be {' or '.join(sorted(accepts))}; it gives {got}",
                    f"{kind} harus berupa {' atau '.join(sorted(accepts))}; hasilnya {got}"))
                where = owner_ref(timer) or ""
                out.append(Problem(
                    file, where, f"the timer of '{where}': {kind} {(timer.text or '').strip()}: {fix_en}.", "error",
                    f"pengatur waktu '{where}': {kind} {(timer.text or '').strip()}: {fix_id}."))
    return out


def _value_types(node: ast.expr, model: Model) -> set[str]:
    """Return what an expression can evaluate to, as far as its syntax and the fields tell."""
    if isinstance(node, ast.Constant):
        value = node.value
        return {"bool" if isinstance(value, bool) else "str" if isinstance(value, str) else
                "number" if isinstance(value, int | float) else "none" if value is None else "unknown"}
    if isinstance(node, ast.JoinedStr):
        return {"str"}
    if isinstance(node, ast.Name):
        types = model.types_of(node.id)
        return {_JSON_TYPES.get(t, "unknown") for t in types} if types else {"unknown"}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return {_CALL_TYPES.get(node.func.id, "unknown")}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        left, right = _value_types(node.left, model), _value_types(node.right, model)
        if left == {"str"} and right == {"str"}:
            return {"str"}
        if left <= {"date", "datetime"} and right == {"timedelta"}:
            return left
        if left == {"number"} and right == {"number"}:
            return {"number"}
    return {"unknown"}


def dmn_entry_problems(model: Model, dmn: list[tuple[str, Any]]) -> list[Problem]:
    """Check DMN cells: literals of other languages, several values in one cell, values outside the enum."""
    out: list[Problem] = []
    for file, root in dmn:
        ns = split_tag(root.tag)[0]
        for table in root.iter(f"{{{ns}}}decisionTable"):
            columns = []
            for column in table.findall(f"{{{ns}}}input"):
                text_el = column.find(f"{{{ns}}}inputExpression/{{{ns}}}text")
                tree = parse_expression((text_el.text or "") if text_el is not None else "")
                columns.append(tree.body.id if tree is not None and isinstance(tree.body, ast.Name) else None)
            for rule in table.findall(f"{{{ns}}}rule"):
                for entry in rule.findall(f"{{{ns}}}outputEntry"):
                    out += _foreign_literals(file, entry, _cell_text(entry, ns))
                for name, entry in zip(columns, rule.findall(f"{{{ns}}}inputEntry"), strict=False):
                    out += _input_cell_problems(model, file, entry, _cell_text(entry, ns), name)
    return out


def _cell_text(entry: Any, ns: str | None) -> str:
    text_el = entry.find(f"{{{ns}}}text")
    return (text_el.text or "").strip() if text_el is not None else ""


_FOREIGN_LITERALS = {"true": "True", "false": "False", "null": "None"}


def _foreign_literals(file: str, entry: Any, text: str) -> list[Problem]:
    tree = parse_expression(text) if text not in ("", "-") else None
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} if tree is not None else set()
    return [Problem(
        file, entry.get("id"),
        f"decision cell '{entry.get('id')}': '{name}' is not Python; write {_FOREIGN_LITERALS[name]}.", "error",
        f"sel keputusan '{entry.get('id')}': '{name}' bukan Python; tulis {_FOREIGN_LITERALS[name]}.")
        for name in sorted(names & _FOREIGN_LITERALS.keys())]


def _input_cell_problems(model: Model, file: str, entry: Any, text: str, name: str | None) -> list[Problem]:
    out = _foreign_literals(file, entry, text)
    tree = parse_expression(text) if text not in ("", "-") else None
    if tree is not None and isinstance(tree.body, ast.Tuple):
        values = ", ".join(ast.unparse(e) for e in tree.body.elts)
        out.append(Problem(
            file, entry.get("id"),
            f"decision cell '{entry.get('id')}' lists several values ({text}); they are compared as one tuple, so "
            f"the rule never matches. Write ? in ({values}).", "error",
            f"sel keputusan '{entry.get('id')}' memuat beberapa nilai ({text}); nilai-nilai itu dibandingkan "
            f"sebagai satu tuple sehingga aturan tidak pernah cocok. Tulis ? in ({values})."))
        return out
    enum = model.enum_of(name) if name else None
    if name and enum is not None:
        read = Read(file, entry.get("id"), f"decision cell '{entry.get('id')}'", f"sel keputusan '{entry.get('id')}'",
                    frozenset())
        out += [_enum_problem(read, name, v, enum) for v in _cell_values(text) if v not in enum]
    return out


def _cell_values(text: str) -> list[Any]:
    """Return the literal values a cell compares with: `"a"`, or `? in ("a", "b")`."""
    source = dmn_cell_source(text)
    tree = parse_expression(source) if source is not None else None
    if tree is None:
        return []
    body = tree.body
    if isinstance(body, ast.Constant):
        return [body.value]
    if isinstance(body, ast.Compare) and len(body.ops) == 1 and isinstance(body.ops[0], ast.In | ast.Eq):
        right = body.comparators[0]
        return [right.value] if isinstance(right, ast.Constant) else _literals(right) or []
    return []
