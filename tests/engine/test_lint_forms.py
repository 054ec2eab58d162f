"""Lint refuses form files that could reach outside the package or stall the server, naming file, field and fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.catalogue.package import Package, from_files, from_path
from engine.errors import Problem
from engine.lint.forms import form_file_problems
from engine.lint.service import lint_package
from forms.validation import MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH
from tests.forms.traps import SECRET, http_trap, secret_file
from tests.packages import START_FORM, simple_package

ROOT = Path(__file__).resolve().parents[2]
START = "forms/start.schema.json"


def with_files(files: dict[str, Any]) -> Package:
    """Return the simple test package with some files replaced (dicts are written as JSON)."""
    base = dict(simple_package("uji").files)
    for name, content in files.items():
        base[name] = content if isinstance(content, bytes) else (
            content.encode() if isinstance(content, str) else json.dumps(content).encode())
    return from_files(base)


def start_form(**properties: Any) -> dict[str, Any]:
    return {**START_FORM, "properties": {**START_FORM["properties"], **properties}}


def errors(package: Package) -> list[Problem]:
    return [p for p in lint_package(package) if p.severity == "error"]


def only_error(package: Package, *words: str) -> Problem:
    found = errors(package)
    assert len(found) == 1, found
    for word in words:
        assert word in found[0].message, found[0].message
    assert found[0].message_id
    assert found[0].message_id != found[0].message
    return found[0]


@pytest.mark.parametrize(("pattern", "reason"), [
    ("^(?=.*[0-9]).+$", "(?="),
    ("^(?!x).+$", "(?!"),
    ("(?<=Rp)[0-9]+", "(?<="),
    ("^(.)\\1$", "\\1"),
])
def test_a_pattern_re2_cannot_compile_is_refused_with_file_field_and_fix(pattern: str, reason: str) -> None:
    anggota = {"type": "array", "items": {"type": "object", "properties": {"nik": {"type": "string",
                                                                               "pattern": pattern}}}}
    problem = only_error(with_files({START: start_form(anggota=anggota)}), START, "field 'anggota[].nik'",
                         reason, "rewrite it without them")
    assert problem.file == START
    assert "/properties/anggota/items/properties/nik/pattern" in problem.message
    assert START in problem.message_id
    assert "isian 'anggota[].nik'" in problem.message_id
    assert "tulis ulang" in problem.message_id


def test_a_pattern_property_name_re2_cannot_compile_is_refused() -> None:
    schema = {**start_form(), "patternProperties": {"^(?=x)": {"type": "string"}}}
    only_error(with_files({START: schema}), START, "/patternProperties/^(?=x)", "RE2")


def test_a_catastrophic_pattern_re2_runs_in_linear_time_is_accepted() -> None:
    assert errors(with_files({START: start_form(kode={"type": "string", "pattern": "^(a+)+$"})})) == []


def test_a_reference_to_a_web_address_is_refused_and_never_fetched() -> None:
    with http_trap() as trap:
        url = f"{trap.url}/skema.json"
        only_error(with_files({START: start_form(nik={"$ref": url})}), START, "field 'nik'", url, "outside this form")
        only_error(with_files({START: {**start_form(nik={"$ref": "umum.json"}), "$id": f"{trap.url}/f/start.json"}}),
                   "another file")
    assert not trap.reached


def test_a_file_reference_is_refused_and_the_file_is_never_read(tmp_path: Path) -> None:
    secret = secret_file(tmp_path)
    problem = only_error(with_files({START: start_form(nik={"$ref": secret.as_uri()})}), "outside this form")
    assert SECRET not in problem.message + problem.message_id


def test_a_reference_to_a_sibling_form_file_is_refused_even_when_the_file_exists() -> None:
    sibling = {"$schema": START_FORM["$schema"], "type": "string", "pattern": "^[0-9]{16}$"}
    package = with_files({START: start_form(nik={"$ref": "nik.schema.json"}), "forms/nik.schema.json": sibling})
    problem = only_error(package, "another file", "copy the definition into this form's $defs", "#/$defs/<name>")
    assert "salin definisinya" in problem.message_id


def test_a_reference_to_a_missing_definition_is_refused() -> None:
    only_error(with_files({START: start_form(nik={"$ref": "#/$defs/nik"})}), "'#/$defs/nik' points to nothing")


def test_a_5000_deep_form_is_refused_not_a_crash() -> None:
    deep = '{"type": "object", "properties": {"a": ' * 5000 + "{}" + "}}" * 5000
    problem = only_error(with_files({START: deep}), f"deeper than {MAX_SCHEMA_DEPTH} levels")
    assert problem.file == START


def test_a_form_just_past_the_depth_limit_is_refused_and_one_within_it_is_not() -> None:
    def schema(levels: int) -> dict[str, Any]:
        default: Any = []
        for _ in range(levels - 2):
            default = [default]
        return start_form(catatan={"type": "array", "default": default})

    assert errors(with_files({START: schema(MAX_SCHEMA_DEPTH - 2)})) == []  # start_form adds two levels
    only_error(with_files({START: schema(MAX_SCHEMA_DEPTH - 1)}), "top level", "flatten it")


def test_a_deep_ui_schema_is_refused_too() -> None:
    deep: Any = {}
    for _ in range(100):
        deep = {"x": deep}
    only_error(with_files({"forms/start.uischema.json": deep}), "forms/start.uischema.json", "nested deeper")


def test_an_oversized_form_file_is_refused() -> None:
    big = {**start_form(), "description": "x" * MAX_SCHEMA_BYTES}
    only_error(with_files({START: big}), f"at most {MAX_SCHEMA_BYTES // 1024} KiB", "split the form")


def test_a_loop_of_references_is_refused() -> None:
    schema = {**start_form(x={"$ref": "#/$defs/a"}), "$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"}]}}}
    only_error(with_files({START: schema}), "/$defs/a", "never end")


def test_a_nested_schema_dialect_is_refused() -> None:
    schema = start_form(x={"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"})
    only_error(with_files({START: schema}), "field 'x'", "$schema may be given only at the top")


def test_the_meta_schema_check_is_unchanged_and_bilingual() -> None:
    problem = only_error(with_files({START: start_form(harga={"type": 5})}), "not a valid JSON Schema",
                         "/properties/harga/type")
    assert "bukan JSON Schema yang sah" in problem.message_id


def test_every_catalogue_form_passes() -> None:
    for path in sorted((ROOT / "processes").glob("*/")):
        package = from_path(path)
        for name, raw in package.files.items():
            if name.startswith("forms/") and name.endswith(".json"):
                assert form_file_problems(name, raw, "form file", schema=name.endswith(".schema.json")) == (), name
