"""Rules for a case's own time limit (`sla_working_days`, engine/sla/limit.py): a value that can be one.

A script (or pre/post script) that assigns the field a constant must assign a whole number of working
days from 1 to 365, and a form that asks for it must declare it an integer bounded to that range;
otherwise the case's due date would silently stay at the service's `sla_days`.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from typing import Any

from engine.bpmn.conventions import NSMAP
from engine.catalogue.package import Package
from engine.errors import Problem
from engine.lint.diagram import bpmn_tag, owner_ref
from engine.sla.limit import FIELD, MAX_DAYS, MIN_DAYS, valid

RANGE_EN = f"a whole number of working days from {MIN_DAYS} to {MAX_DAYS}"
RANGE_ID = f"bilangan bulat hari kerja dari {MIN_DAYS} sampai {MAX_DAYS}"


def sla_limit_problems(package: Package, bpmn: list[tuple[str, Any]]) -> list[Problem]:
    """Return the problems of every script and form that sets the case's own time limit."""
    problems: list[Problem] = []
    for file, root in bpmn:
        for element, source in _scripts(root):
            problems.extend(_script_problems(file, element, source))
    for path, raw in sorted(package.files.items()):
        if path.startswith("forms/") and path.endswith(".schema.json"):
            problems.extend(_form_problems(path, raw))
    return problems


def _scripts(root: Any) -> Iterator[tuple[str, str]]:
    for script in root.iter(bpmn_tag("script")):
        yield script.getparent().get("id", ""), script.text or ""
    for tag in ("preScript", "postScript"):
        for script in root.xpath(f".//spiffworkflow:{tag}", namespaces=NSMAP):
            yield owner_ref(script) or "", script.text or ""


def _script_problems(file: str, element: str, source: str) -> Iterator[Problem]:
    if FIELD not in source:
        return
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return  # the expression rules report it
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if not any(isinstance(t, ast.Name) and t.id == FIELD for t in targets):
            continue
        if isinstance(node.value, ast.Constant) and not valid(node.value.value):
            value = repr(node.value.value)
            yield Problem(file, element or None,
                          f"the script of '{element}' sets {FIELD} to {value}; the case's time limit must be "
                          f"{RANGE_EN} (engine/sla/limit.py)", "error",
                          f"skrip '{element}' mengisi {FIELD} dengan {value}; jangka waktu permohonan harus "
                          f"{RANGE_ID} (engine/sla/limit.py)")


def _form_problems(path: str, raw: bytes) -> Iterator[Problem]:
    if FIELD.encode() not in raw:
        return
    try:
        schema = json.loads(raw)
    except (ValueError, RecursionError):
        return  # the form rules report it
    props = schema.get("properties") if isinstance(schema, dict) else None
    field = props.get(FIELD) if isinstance(props, dict) else None
    if not isinstance(field, dict):
        return
    minimum, maximum = field.get("minimum"), field.get("maximum")
    if (field.get("type") != "integer" or not isinstance(minimum, int) or not isinstance(maximum, int)
            or minimum < MIN_DAYS or maximum > MAX_DAYS):
        yield Problem(path, FIELD, f"{path}: the field {FIELD} sets the case's time limit; declare it "
                                   f'"type": "integer" with "minimum" and "maximum" within {MIN_DAYS}..{MAX_DAYS}',
                      "error",
                      f"{path}: kolom {FIELD} menentukan jangka waktu permohonan; nyatakan "
                      f'"type": "integer" dengan "minimum" dan "maximum" dalam {MIN_DAYS}..{MAX_DAYS}')
