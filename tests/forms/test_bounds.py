"""Form schemas and submitted data are bounded: too deep or too large is a clear error, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest

from forms.validation import (
    MAX_DATA_DEPTH,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    FormInvalid,
    FormSchemaUnsafe,
    check_usable,
    schema_problems,
    validate,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def nested_fields(levels: int) -> dict[str, Any]:
    """Return a schema with `levels` object fields inside each other (two JSON levels each), built without recursion."""
    inner: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        inner = {"type": "object", "properties": {"a": inner}}
    return {"$schema": DRAFT, **inner}


def with_default_depth(depth: int) -> dict[str, Any]:
    """Return a schema whose JSON is exactly `depth` levels deep (the top object is level 1)."""
    value: Any = []
    for _ in range(depth - 2):
        value = [value]
    return {"type": "object", "default": value}


def test_a_5000_deep_schema_is_a_domain_error_not_a_recursion_error() -> None:
    schema = nested_fields(5000)
    with pytest.raises(FormSchemaUnsafe) as info:
        validate(schema, {"a": {"a": "x"}})
    assert f"deeper than {MAX_SCHEMA_DEPTH} levels" in info.value.message
    assert f"lebih dari {MAX_SCHEMA_DEPTH} tingkat" in info.value.message_id
    with pytest.raises(FormSchemaUnsafe):
        check_usable(schema)  # refused again from the cache, as the page layer asks


def test_the_depth_limit_is_exact() -> None:
    assert schema_problems(with_default_depth(MAX_SCHEMA_DEPTH)) == []
    assert json.dumps(with_default_depth(MAX_SCHEMA_DEPTH)).count("[") == MAX_SCHEMA_DEPTH - 1
    [problem] = schema_problems(with_default_depth(MAX_SCHEMA_DEPTH + 1))
    assert "nested deeper" in problem.message_en


def test_a_schema_with_too_many_values_is_refused() -> None:
    schema = {"type": "object", "properties": {"pilihan": {"enum": list(range(MAX_SCHEMA_NODES))}}}
    [problem] = schema_problems(schema)
    assert f"more than {MAX_SCHEMA_NODES}" in problem.message_en
    assert schema_problems({"type": "object", "properties": {"pilihan": {"enum": list(range(1000))}}}) == []


def test_a_loop_of_references_is_refused_and_true_recursion_is_not() -> None:
    looping = {"$schema": DRAFT, "$defs": {"a": {"allOf": [{"$ref": "#/$defs/b"}]}, "b": {"$ref": "#/$defs/a"}},
               "properties": {"x": {"$ref": "#/$defs/a"}}}
    with pytest.raises(FormSchemaUnsafe) as info:
        validate(looping, {"x": 1})
    assert "never end" in info.value.message
    tree = {"$schema": DRAFT, "$defs": {"simpul": {"type": "object", "properties": {
        "nama": {"type": "string"}, "anak": {"type": "array", "items": {"$ref": "#/$defs/simpul"}}}}},
        "$ref": "#/$defs/simpul"}
    assert validate(tree, {"nama": "a", "anak": [{"nama": "b", "anak": [{"nama": "c"}]}]})
    with pytest.raises(FormInvalid) as bad:
        validate(tree, {"anak": [{"anak": [{"nama": 3}]}]})
    assert [(e.path, e.code) for e in bad.value.field_errors] == [("anak.0.anak.0.nama", "type")]


def test_data_deeper_than_the_limit_is_a_field_error_even_for_a_recursive_form() -> None:
    schema = {"$schema": DRAFT, "type": "object", "properties": {"anak": {"$ref": "#"}}}
    data: dict[str, Any] = {}
    for _ in range(MAX_DATA_DEPTH - 1):
        data = {"anak": data}
    assert validate(schema, data) is data
    with pytest.raises(FormInvalid) as info:
        validate(schema, {"anak": data})
    assert not isinstance(info.value, FormSchemaUnsafe)
    assert [(e.path, e.code) for e in info.value.field_errors] == [("(form)", "depth")]


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"a": {"type": 5}}},
    {"type": "object", "$id": "http://[::1"},
    {"type": "object", "allOf": [1]},
])
def test_a_schema_that_is_not_json_schema_is_a_domain_error(schema: dict[str, Any]) -> None:
    with pytest.raises(FormSchemaUnsafe) as info:
        validate(schema, {"a": 1})
    assert info.value.problems
