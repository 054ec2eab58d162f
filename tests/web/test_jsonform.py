"""The form layer alone: which widget each schema property gets, and how posted strings come back typed."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from forms.validation import FieldError, FormSchemaUnsafe
from web.jsonform import build_fields, errors_by_field, read_form

SCHEMA = {
    "type": "object",
    "required": ["nama", "jumlah", "setuju", "jenis"],
    "properties": {
        "nama": {"type": "string", "title": "Nama", "maxLength": 80},
        "jumlah": {"type": "integer", "title": "Jumlah", "minimum": 1},
        "luas": {"type": "number", "title": "Luas"},
        "setuju": {"type": "boolean", "title": "Setuju"},
        "jenis": {"type": "string", "title": "Jenis", "enum": ["a", "b"]},
        "hasil": {"type": "string", "title": "Hasil", "enum": ["ya", "tidak"]},
        "tanggal": {"type": "string", "format": "date", "title": "Tanggal"},
        "catatan": {"type": "string", "title": "Catatan"},
        "dokumen": {"type": "array", "title": "Dokumen", "items": {"type": "string"}},
        "kode": {"type": "array", "title": "Kode", "items": {"type": "string"}},
        "pilihan": {"type": "array", "title": "Pilihan", "items": {"type": "string", "enum": ["x", "y"]}},
    },
}
UI = {"ui:order": ["jenis", "nama"], "nama": {"ui:title_en": "Name", "ui:help": "Sesuai KTP", "ui:help_en": "As on ID"},
      "jenis": {"ui:enumNames": ["Jenis A", "Jenis B"], "ui:enumNames_en": ["Kind A", "Kind B"]},
      "hasil": {"ui:widget": "radio"}, "catatan": {"ui:widget": "textarea"}}


def test_each_property_gets_its_widget_in_the_ui_order_and_language() -> None:
    fields = build_fields(SCHEMA, UI, lang="en", values={"nama": "Budi"}, errors={"jumlah": "too small"})
    kinds = {f.name: f.kind for f in fields}
    assert [f.name for f in fields][:2] == ["jenis", "nama"]
    assert kinds == {"jenis": "select", "nama": "text", "jumlah": "integer", "luas": "number", "setuju": "checkbox",
                     "hasil": "radio", "tanggal": "date", "catatan": "textarea", "dokumen": "files", "kode": "lines",
                     "pilihan": "multi"}
    nama = next(f for f in fields if f.name == "nama")
    assert (nama.label, nama.help, nama.value, nama.required, nama.attrs) == ("Name", "As on ID", "Budi", True,
                                                                              {"maxlength": 80})
    assert next(f for f in fields if f.name == "jenis").options == [("a", "Kind A"), ("b", "Kind B")]
    assert next(f for f in fields if f.name == "jumlah").error == "too small"
    indonesian = build_fields(SCHEMA, UI, lang="id", values={})
    assert next(f for f in indonesian if f.name == "nama").label == "Nama"


def test_posted_strings_come_back_typed_and_empty_optionals_stay_out() -> None:
    form = FormData([("nama", " Budi "), ("jumlah", "3"), ("luas", "12,5"), ("setuju", "on"), ("jenis", "a"),
                     ("catatan", ""), ("kode", "K1\n\nK2\n"), ("pilihan", "x"), ("pilihan", "y"),
                     ("dokumen__keep", "file:7")])
    data, uploads = read_form(SCHEMA, UI, form)
    assert data == {"nama": "Budi", "jumlah": 3, "luas": 12.5, "setuju": True, "jenis": "a", "kode": ["K1", "K2"],
                    "pilihan": ["x", "y"], "dokumen": ["file:7"]}
    assert uploads == {"dokumen": []}


def test_values_that_do_not_fit_their_type_are_left_for_validation_to_name() -> None:
    data, _ = read_form(SCHEMA, UI, FormData([("jumlah", "tiga"), ("luas", "1e999x")]))
    assert data["jumlah"] == "tiga"
    assert data["luas"] == "1e999x"
    assert data["setuju"] is False  # an unticked box is a real "no"


def test_errors_are_grouped_by_top_level_field_in_the_page_language() -> None:
    errors = [FieldError("dokumen/0", "minLength", "Terlalu pendek.", "Too short."),
              FieldError("nik", "pattern", "Harus 16 digit.", "Must be 16 digits.")]
    assert errors_by_field(errors, lang="id") == {"dokumen": "Terlalu pendek.", "nik": "Harus 16 digit."}
    assert errors_by_field(errors, lang="en")["nik"] == "Must be 16 digits."


def test_a_property_that_refers_to_a_definition_gets_the_definitions_widget() -> None:
    schema = {"type": "object", "$defs": {"jenis": {"type": "string", "enum": ["a", "b"]},
                                          "catatan": {"$ref": "#/$defs/teks"}, "teks": {"type": "string",
                                                                                       "maxLength": 900}},
              "properties": {"jenis": {"$ref": "#/$defs/jenis", "title": "Jenis izin"},
                             "catatan": {"$ref": "#/$defs/catatan"}}}
    fields = {f.name: f for f in build_fields(schema, None, lang="id", values={})}
    assert (fields["jenis"].kind, fields["jenis"].label, fields["jenis"].options) == (
        "select", "Jenis izin", [("a", "a"), ("b", "b")])
    assert (fields["catatan"].kind, fields["catatan"].attrs) == ("textarea", {"maxlength": 900})
    data, _ = read_form(schema, None, FormData([("jenis", "b"), ("catatan", " isi ")]))
    assert data == {"jenis": "b", "catatan": "isi"}


def test_a_schema_validation_would_refuse_is_a_domain_error_not_a_crash() -> None:
    deep: dict[str, object] = {"type": "string"}
    for _ in range(5000):
        deep = {"type": "object", "properties": {"a": deep}}
    outside = {"type": "object", "properties": {"nik": {"$ref": "http://127.0.0.1:9/nik.json"}}}
    for schema in (deep, outside):
        with pytest.raises(FormSchemaUnsafe):
            build_fields(schema, None, lang="id", values={})
        with pytest.raises(FormSchemaUnsafe):
            read_form(schema, None, FormData([("nik", "1")]))


def test_ui_schema_values_of_an_unexpected_kind_are_ignored() -> None:
    schema = {"type": "object", "properties": {"kode": {"type": "array", "items": True},
                                               "jenis": {"type": "string", "enum": ["a", "b"]},
                                               "bebas": True}}
    ui = {"ui:order": 5, "jenis": {"ui:enumNames": "AB", "ui:title_en": {"x": 1}, "ui:help": ["?"]}, "kode": [1]}
    fields = {f.name: f for f in build_fields(schema, ui, lang="en", values={})}
    assert set(fields) == {"kode", "jenis"}
    assert (fields["kode"].kind, fields["jenis"].label, fields["jenis"].help) == ("lines", "jenis", "")
    assert fields["jenis"].options == [("a", "a"), ("b", "b")]
    ordered = build_fields(schema, {"ui:order": ["jenis", {"x": 1}, "jenis"]}, lang="en", values={})
    assert [f.name for f in ordered] == ["jenis", "kode"]
    data, _ = read_form(schema, ui, FormData([("kode", "K1\nK2"), ("jenis", "a")]))
    assert data == {"kode": ["K1", "K2"], "jenis": "a"}
