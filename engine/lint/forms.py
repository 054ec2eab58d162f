"""Rules for the form files of a package: readable JSON within bounds, and schemas safe to run.

Forms come from analysts and run on every application and task. Lint refuses, before deployment and
with the file and field named, what `forms.validation` would refuse at run time (the same
`schema_problems`): references outside the form, patterns RE2 cannot run, schemas too deep or too
large, loops of references. A form schema deployed before these rules still fails safely at run time.
"""

from __future__ import annotations

import functools
import json

from engine.errors import Problem
from forms.validation import MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH, SchemaProblem, bounds_problem, schema_problems

WHAT_ID = {"form schema": "skema formulir", "UI schema": "skema UI", "form file": "berkas formulir"}


def _error(path: str, english: str, indonesian: str) -> Problem:
    return Problem(path, None, english, "error", indonesian)


def _located(path: str, problem: SchemaProblem) -> Problem:
    # The field (its top-level key) is the problem's element: the form builder marks it there.
    field = problem.field.split(".")[0].split("[")[0] or None
    return Problem(path, field, f"{path}, {problem.where()}: {problem.message_en}", "error",
                   f"{path}, {problem.where('id')}: {problem.message_id}")


@functools.lru_cache(maxsize=1024)
def form_file_problems(path: str, raw: bytes, what: str, *, schema: bool) -> tuple[Problem, ...]:
    """Check one form file: size, UTF-8 JSON object within bounds and, for a form schema, safe to run.

    Cached by content: checking against the meta-schema costs ~10 ms a form, and a catalogue
    redeployed unchanged (every `make run`, every test) should not pay it again.
    """
    if len(raw) > MAX_SCHEMA_BYTES:
        size, limit = -(-len(raw) // 1024), MAX_SCHEMA_BYTES // 1024
        return (_error(path, f"{path} is {size} KiB; a form file may be at most {limit} KiB: split the form into "
                             "several steps",
                       f"{path} berukuran {size} KiB; berkas formulir paling besar {limit} KiB: bagi formulir "
                       "menjadi beberapa langkah"),)
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return (_error(path, "the file is not UTF-8 text", "berkas bukan teks UTF-8"),)
    except json.JSONDecodeError as exc:
        return (_error(path, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                       f"bukan JSON yang sah: {exc.msg} di baris {exc.lineno}, kolom {exc.colno}"),)
    except RecursionError:  # far deeper than any form: Python's own JSON reader gives up
        return (_located(path, SchemaProblem(
            "", "", f"the form is nested deeper than {MAX_SCHEMA_DEPTH} levels of objects and arrays; flatten it",
            f"formulir bersarang lebih dari {MAX_SCHEMA_DEPTH} tingkat objek dan larik; sederhanakan")),)
    if not isinstance(document, dict):
        what_id = WHAT_ID.get(what, what)
        return (_error(path, f"the {what} must be a JSON object", f"{what_id} harus berupa objek JSON"),)
    if not schema:
        bounds = bounds_problem(document)
        return (_located(path, bounds),) if bounds else ()
    return tuple(_located(path, problem) for problem in schema_problems(document))
