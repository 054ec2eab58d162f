"""Validation's shortcut for flat subschemas finds exactly the errors jsonschema's own `properties` and `items` find.

A value a flat subschema (type, enum, pattern, bounds ...) accepts is not descended into
(forms/validation.py `_properties`); these tests check the shortcut against the validator without it,
on every catalogue form and on schemas that mix flat and nested parts, with valid and invalid values.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, validators

from forms import validation as validation

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_FORMS = sorted((ROOT / "processes").glob("*/forms/*.schema.json"))

# The form validator as it was before the shortcut: jsonschema's own `properties` and `items`.
Reference = validators.extend(Draft202012Validator, {
    "pattern": validation._pattern, "patternProperties": validation._pattern_properties,
    "additionalProperties": validation._additional_properties,
})

MIXED = {
    "type": "object",
    "$defs": {"kode": {"type": "string", "pattern": "^[A-Z]{3}$"}},
    "properties": {
        "nama": {"type": "string", "minLength": 2, "maxLength": 8},
        "umur": {"type": "integer", "minimum": 0, "exclusiveMaximum": 150},
        "kode": {"$ref": "#/$defs/kode"},
        "jenis": {"enum": ["a", "b", 1, True]},
        "tetap": {"const": 0},
        "alamat": {"type": "object", "required": ["kota"],
                   "properties": {"kota": {"type": "string"}, "rt": {"type": "integer"}}},
        "berkas": {"type": "array", "items": {"type": "string", "pattern": "^file:[0-9]+$"}, "maxItems": 2},
        "pasangan": {"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}},
        "tanpa_lebih": {"type": "array", "prefixItems": [{"type": "string"}], "items": False},
        "anggota": {"type": "array", "items": {"type": "object", "properties": {"nik": {"type": "string",
                                                                                       "pattern": "^[0-9]{16}$"}}}},
        "surel": {"type": "string", "format": "email"},
        "tanggal": {"type": "string", "format": "date"},
        "benar": True,
        "salah": False,
        "pilihan": {"type": ["string", "null"], "maxLength": 3},
    },
    "allOf": [{"if": {"properties": {"jenis": {"const": "a"}}, "required": ["jenis"]},
               "then": {"required": ["nama"]}}],
    "additionalProperties": False,
}

# Values of every kind, so each check meets what it accepts and what it refuses.
VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2.5, 1.0, 10**20, float("1e308"), "", "a", "ab", "ABC", "abcdefghij", "file:1",
    "file:x", "warga@contoh.id", "bukan surel", "2026-03-02", "2026-13-40", "3201010101010001", [], ["file:1"],
    ["file:1", "file:2", "file:3"], ["x", 1], [1, 2], ["a", "b"], [{"nik": "3201010101010001"}], [{"nik": "12"}],
    {}, {"kota": "Bandung"}, {"rt": "satu"}, {"kota": 1, "rt": 2},
]


def _errors(validator: Any, instance: Any) -> list[tuple[list[Any], str, str]]:
    return sorted(((list(e.absolute_path), str(e.validator), e.message) for e in validator.iter_errors(instance)),
                  key=repr)


def _instances(schema: dict[str, Any], seed: int, count: int) -> list[dict[str, Any]]:
    """Draw objects that set some of the schema's properties (and a stray one) to values of every kind."""
    rng = random.Random(seed)
    names = list(schema.get("properties", {})) + ["tak_dikenal"]
    drawn = []
    for _ in range(count):
        chosen = rng.sample(names, rng.randint(0, len(names)))
        drawn.append({name: rng.choice(VALUES) for name in chosen})
    return drawn


def _assert_same(schema: dict[str, Any], instances: list[dict[str, Any]]) -> int:
    ours = validation._validator(schema)
    reference = Reference({k: v for k, v in schema.items() if k != "$schema"}, registry=validation.REGISTRY,
                          format_checker=validation._formats)
    refused = 0
    for instance in instances:
        expected = _errors(reference, instance)
        assert _errors(ours, instance) == expected, instance
        refused += bool(expected)
    return refused


def test_mixed_flat_and_nested_parts_give_the_same_errors() -> None:
    instances = _instances(MIXED, seed=18, count=600)
    refused = _assert_same(MIXED, instances)
    assert 0 < refused < len(instances)  # both outcomes were exercised


@pytest.mark.parametrize("path", CATALOGUE_FORMS, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_every_catalogue_form_gives_the_same_errors(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    _assert_same(schema, _instances(schema, seed=len(path.name), count=40))


def test_a_value_a_flat_subschema_refuses_is_still_reported_at_its_field() -> None:
    with pytest.raises(validation.FormInvalid) as info:
        validation.validate(MIXED, {"nama": "x", "berkas": ["file:1", "file:y"], "umur": 150})
    assert {(e.path, e.code) for e in info.value.field_errors} == {
        ("nama", "minLength"), ("berkas.1", "pattern"), ("umur", "exclusiveMaximum")}
