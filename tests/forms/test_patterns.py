"""Patterns in form schemas run on RE2: linear time, whatever the pattern and the text typed."""

from __future__ import annotations

from typing import Any

import pytest

from forms.validation import FormInvalid, FormSchemaUnsafe, validate
from tests.forms.traps import finishes_within

DRAFT = "https://json-schema.org/draft/2020-12/schema"
EVIL = "^(a+)+$"  # Python's re needs ~2^n steps to refuse n a's followed by "!"
TYPED = "a" * 5000 + "!"


def form(**properties: Any) -> dict[str, Any]:
    return {"$schema": DRAFT, "type": "object", "properties": properties}


def errors_of(schema: dict[str, Any], data: dict[str, Any]) -> set[tuple[str, str]]:
    """Validate in a thread that must finish (a stall never does); return (path, code) of each error."""
    done, outcome = finishes_within(30.0, lambda: validate(schema, data))
    assert done, "validation was still running after 30 s: a stall (backtracking), not a busy machine"
    if isinstance(outcome, FormSchemaUnsafe):
        raise outcome
    assert isinstance(outcome, FormInvalid), outcome
    return {(e.path, e.code) for e in outcome.field_errors}


def test_a_catastrophic_pattern_answers_at_once_with_the_pattern_error() -> None:
    assert errors_of(form(kode={"type": "string", "pattern": EVIL}), {"kode": TYPED}) == {("kode", "pattern")}
    assert validate(form(kode={"type": "string", "pattern": EVIL}), {"kode": "a" * 5000}) == {"kode": "a" * 5000}


def test_the_pattern_reached_again_through_the_root_still_runs_on_re2() -> None:
    # "$ref": "#" re-enters the document at its top, whose "$schema" once chose jsonschema's stock validator.
    schema = form(kode={"type": "string", "pattern": EVIL}, wakil={"$ref": "#"})
    assert errors_of(schema, {"wakil": {"wakil": {"kode": TYPED}}}) == {("wakil.wakil.kode", "pattern")}


def test_pattern_properties_and_additional_properties_match_names_on_re2() -> None:
    schema = {"$schema": DRAFT, "type": "object", "patternProperties": {EVIL: {"type": "integer"}},
              "additionalProperties": False}
    assert errors_of(schema, {TYPED: 1, "aaa": "x"}) == {("(form)", "additionalProperties"), ("aaa", "type")}
    with pytest.raises(FormInvalid) as info:
        validate(schema, {"a!": 1, "aa": 2})
    assert info.value.field_errors[0].message_en == "Unknown field(s): a!."


def test_the_regex_format_is_checked_by_re2() -> None:
    schema = form(aturan={"type": "string", "format": "regex"})
    assert validate(schema, {"aturan": "^[0-9]{16}$"})
    assert errors_of(schema, {"aturan": "(?=a)b"}) == {("aturan", "format")}
    assert errors_of(schema, {"aturan": "(a{1000}){1000}"}) == {("aturan", "format")}


@pytest.mark.parametrize(("pattern", "words"), [
    ("^(?=.*[0-9])[a-z0-9]+$", "(?="),
    ("^(?!admin)[a-z]+$", "(?!"),
    ("(?<=Rp)[0-9]+", "(?<="),
    ("^(a)\\1$", "\\1"),
])
def test_a_pattern_re2_cannot_run_makes_the_form_unusable_naming_the_field(pattern: str, words: str) -> None:
    with pytest.raises(FormSchemaUnsafe) as info:
        validate(form(sandi={"type": "string", "pattern": pattern}), {"sandi": "abc"})
    assert "field 'sandi'" in info.value.message
    assert words in info.value.message
    assert "isian 'sandi'" in info.value.message_id


def test_a_lone_surrogate_in_the_text_is_a_pattern_error_not_a_crash() -> None:
    assert errors_of(form(nama={"type": "string", "pattern": "^[a-z]+$"}), {"nama": "ab\ud800"}) == {
        ("nama", "pattern")}


def test_patterns_follow_json_schema_semantics() -> None:
    schema = form(nik={"type": "string", "pattern": "^[0-9]{16}$"}, nama={"type": "string", "pattern": "^[\\p{L} ]+$"},
                  kata={"type": "string", "pattern": "aku"})
    assert validate(schema, {"nik": "3471012345678901", "nama": "José Ñoño", "kata": "dia dan aku"})
    # `$` is the end of the text (as in ECMA-262): Python's re let a trailing newline through.
    assert errors_of(schema, {"nik": "3471012345678901\n"}) == {("nik", "pattern")}
    # Digits are ASCII digits, as in ECMA-262: Python's re took Arabic-Indic digits for \d.
    assert errors_of(form(n={"type": "string", "pattern": "^\\d+$"}), {"n": "١٢٣"}) == {("n", "pattern")}


def test_unevaluated_properties_beside_pattern_properties_is_refused() -> None:
    # jsonschema's unevaluatedProperties would match the names with Python's re.
    schema = {"$schema": DRAFT, "type": "object", "patternProperties": {EVIL: {}}, "unevaluatedProperties": False}
    with pytest.raises(FormSchemaUnsafe) as info:
        validate(schema, {TYPED: 1})
    assert "additionalProperties" in info.value.message


def test_a_nested_schema_dialect_is_refused() -> None:
    # A nested "$schema" made jsonschema switch to that dialect's validator, with Python's re.
    schema = {**form(kode={"$ref": "#/$defs/kode"}),
              "$defs": {"kode": {"$schema": DRAFT, "type": "string", "pattern": EVIL}}}
    done, outcome = finishes_within(30.0, lambda: validate(schema, {"kode": TYPED}))
    assert done
    assert isinstance(outcome, FormSchemaUnsafe)
    assert "/$defs/kode/$schema" in outcome.message


def test_a_text_its_max_length_refuses_is_not_matched_against_the_pattern() -> None:
    # (.*a){500} is linear on RE2 but slow per character: ~10 s a megabyte on this machine.
    schema = form(nama={"type": "string", "maxLength": 100, "pattern": "(.*a){500}"})
    assert errors_of(schema, {"nama": "ab" * 500_000}) == {("nama", "maxLength")}
    assert errors_of(schema, {"nama": "ab" * 10}) == {("nama", "pattern")}


def test_a_crafted_pattern_on_a_long_text_without_max_length_answers_at_once() -> None:
    # RE2 stays linear, but this pattern costs ~20 µs a character: a megabyte would take 20 s.
    schema = form(kode={"type": "string", "pattern": "(.*a){999}"})
    assert errors_of(schema, {"kode": "a" * 1_000_000}) == {("kode", "pattern")}
    assert validate(schema, {"kode": "a" * 999}) == {"kode": "a" * 999}
