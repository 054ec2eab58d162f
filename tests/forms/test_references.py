"""A form's `$ref`s resolve inside the form only: nothing is fetched from the network or read from files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from forms.validation import FormInvalid, FormSchemaUnsafe, validate
from tests.forms.traps import SECRET, Trap, fetch, secret_file

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def form(**properties: Any) -> dict[str, Any]:
    return {"$schema": DRAFT, "type": "object", "properties": properties}


def refusal(schema: dict[str, Any], data: dict[str, Any]) -> FormSchemaUnsafe:
    with pytest.raises(FormSchemaUnsafe) as info:
        validate(schema, data)
    return info.value


def every_text(error: FormInvalid) -> str:
    return " ".join([error.message, error.message_id, *(f"{e.message_en} {e.message_id}" for e in error.field_errors)])


def test_the_trap_counts_what_reaches_it(trap: Trap) -> None:
    fetch(trap.url)
    assert trap.connections
    assert trap.requests == ["/probe"]


@pytest.mark.parametrize("where", ["property", "definition", "dynamic"])
def test_a_reference_to_a_web_address_is_refused_without_a_request(trap: Trap, where: str) -> None:
    url = f"{trap.url}/skema.json"
    schema = {
        "property": form(nik={"$ref": url}),
        "definition": {**form(nik={"$ref": "#/$defs/nik"}), "$defs": {"nik": {"allOf": [{"$ref": url}]}}},
        "dynamic": form(nik={"$dynamicRef": url}),
    }[where]
    error = refusal(schema, {"nik": "x"})
    assert url in error.message
    assert "outside this form" in error.message
    assert "luar formulir" in error.message_id
    assert error.field_errors[0].path == "(form)"
    assert not trap.reached


def test_a_relative_reference_under_a_web_base_is_not_fetched_either(trap: Trap) -> None:
    schema = {**form(nik={"$ref": "lain.json"}), "$id": f"{trap.url}/forms/utama.json"}
    error = refusal(schema, {"nik": "x"})
    assert "another file" in error.message
    assert not trap.reached


def test_a_file_reference_is_never_read_and_its_content_never_shown(tmp_path: Path) -> None:
    secret = secret_file(tmp_path)
    for ref in (secret.as_uri(), f"{secret.as_uri()}#/const", str(secret)):
        error = refusal(form(nik={"$ref": ref}), {"nik": "x"})
        assert SECRET not in every_text(error)
        assert ref in error.message


@pytest.mark.parametrize(("ref", "words"), [
    ("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "outside this form"),
    ("umum.schema.json", "another file"),
    ("../../etc/passwd", "another file"),
    ("#/$defs/tidak_ada", "points to nothing"),
    ("#tidak_ada", "points to nothing"),
    ("#/properties/nik/maxLength/0", "points to nothing"),
    ("#/required/satu", "points to nothing"),
])
def test_any_other_reference_is_a_clear_form_error(ref: str, words: str) -> None:
    schema = {**form(nik={"$ref": ref, "maxLength": 16}), "required": ["nik"]}
    error = refusal(schema, {"nik": "x"})
    assert words in error.message
    assert "nik" in error.message  # the field it concerns
    assert error.code == "form-invalid"


def test_references_inside_the_form_work() -> None:
    schema = {
        **form(nik={"$ref": "#/$defs/nik"}, telepon={"$ref": "#telepon"}, wakil={"$ref": "#"}),
        "$defs": {"nik": {"type": "string", "pattern": "^[0-9]{16}$"},
                  "telepon": {"$anchor": "telepon", "type": "string", "minLength": 8}},
        "required": ["nik"],
    }
    assert validate(schema, {"nik": "3471012345678901", "wakil": {"nik": "3471012345678902"}})
    with pytest.raises(FormInvalid) as info:
        validate(schema, {"nik": "123", "telepon": "0812", "wakil": {"telepon": "0812345678"}})
    assert not isinstance(info.value, FormSchemaUnsafe)
    assert {(e.path, e.code) for e in info.value.field_errors} == {
        ("nik", "pattern"), ("telepon", "minLength"), ("wakil.nik", "required")}


def test_an_embedded_id_is_resolved_in_place_without_a_fetch(trap: Trap) -> None:
    schema = {**form(nik={"$ref": f"{trap.url}/nik.json"}),
              "$defs": {"nik": {"$id": f"{trap.url}/nik.json", "type": "string", "maxLength": 16}}}
    with pytest.raises(FormInvalid) as info:
        validate(schema, {"nik": "x" * 17})
    assert [(e.path, e.code) for e in info.value.field_errors] == [("nik", "maxLength")]
    assert not trap.reached


def test_the_json_schema_meta_schema_is_not_a_reference_a_form_may_use() -> None:
    error = refusal(form(nik={"$ref": DRAFT}), {"nik": "x"})
    assert "outside this form" in error.message
