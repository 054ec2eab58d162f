"""The numbers submitted data may hold: finite, and no larger than a double (about 1.8e308).

Python reads JSON's `1e400` as infinity and the non-standard `NaN` and `Infinity` as themselves,
and an integer may have hundreds of digits. None of these can be validated (jsonschema's
`multipleOf` divides, and fails on them), computed with (a script's float arithmetic), printed
(`rupiah`) or read back by browsers and partner systems, so they are refused at the door, each
named by its field, before a form's schema sees them.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from forms.validation import FieldError, FormInvalid

LARGEST_INT = int(sys.float_info.max)  # 309 digits
# An integer literal longer than this (a sign and LARGEST_INT's digits) is out of range, whatever its digits.
MAX_INT_CHARS = len(str(LARGEST_INT)) + 1
TOO_LARGE = ("tooLarge", "Angka terlalu besar.", "Number too large.")
NOT_A_NUMBER = ("notANumber", "Bukan angka yang sah.", "Not a valid number.")


def number_errors(data: Any) -> list[FieldError]:
    """Return an error for every number in `data` the platform cannot hold, named by its field's path."""
    errors: list[FieldError] = []
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:  # a loop, not recursion: submitted data may nest deeper than Python recurses
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{path}.{key}" if path else str(key), child) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}" if path else str(index), child) for index, child in enumerate(value))
        elif (problem := _problem(value)) is not None:
            errors.append(FieldError(path or "(form)", *problem))
    return sorted(errors, key=lambda error: error.path)


def check_numbers(data: Any) -> None:
    """Raise FormInvalid naming every number in `data` that is not finite or is larger than a double."""
    errors = number_errors(data)
    if errors:
        raise FormInvalid(errors)


def read_json_int(text: str) -> int | float:
    """Read a JSON integer literal as `json.loads(parse_int=...)` does, giving one too long to hold as infinity.

    Python refuses to read integers of more than 4,300 digits (a guard against quadratic parsing),
    which failed the whole request body before anyone could say which field was wrong. A literal
    longer than any number the platform holds becomes infinity, as the json module already reads
    `1e400`, so `check_numbers` names its field.
    """
    if len(text) > MAX_INT_CHARS:
        return -math.inf if text.startswith("-") else math.inf
    return int(text)


def _problem(value: Any) -> tuple[str, str, str] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return TOO_LARGE if abs(value) > LARGEST_INT else None
    if isinstance(value, float) and not math.isfinite(value):
        return NOT_A_NUMBER if math.isnan(value) else TOO_LARGE
    return None
