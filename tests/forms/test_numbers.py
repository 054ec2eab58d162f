"""Numbers no double holds are refused by field, before any schema sees them."""

from __future__ import annotations

import json
import math

import pytest

from forms.numbers import LARGEST_INT, check_numbers, number_errors, read_json_int
from forms.validation import FormInvalid


def test_each_number_out_of_range_is_named_by_its_path() -> None:
    data = {"harga": 10**400, "rincian": [{"biaya": -math.inf}, {"biaya": 2.5}], "catatan": "1e999999",
            "ukuran": {"luas": math.nan, "tinggi": LARGEST_INT}, "lunas": True, "sisa": -float(LARGEST_INT)}
    assert [(e.path, e.code, e.message_id, e.message_en) for e in number_errors(data)] == [
        ("harga", "tooLarge", "Angka terlalu besar.", "Number too large."),
        ("rincian.0.biaya", "tooLarge", "Angka terlalu besar.", "Number too large."),
        ("ukuran.luas", "notANumber", "Bukan angka yang sah.", "Not a valid number."),
    ]
    assert number_errors({"a": LARGEST_INT + 1}) != []
    with pytest.raises(FormInvalid) as raised:
        check_numbers(data)
    assert set(raised.value.errors) == {"harga", "rincian.0.biaya", "ukuran.luas"}
    check_numbers({"jumlah": 2, "harga": 1e308, "nested": [[[1]]]})  # in range: nothing raised


def test_data_nested_deeper_than_python_recurses_is_walked() -> None:
    deep: object = 1e999
    for _ in range(2000):
        deep = [deep]
    assert [e.path for e in number_errors({"x": deep})] == ["x" + ".0" * 2000]


@pytest.mark.parametrize(("literal", "read"), [
    ("12", 12), ("-7", -7), ("9" * 309, int("9" * 309)), ("9" * 5000, math.inf), ("-" + "9" * 5000, -math.inf)])
def test_an_integer_literal_too_long_to_hold_reads_as_infinity(literal: str, read: float) -> None:
    assert json.loads(f'{{"n": {literal}}}', parse_int=read_json_int) == {"n": read}
