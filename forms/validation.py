"""Validate submitted data against a form's JSON Schema, with field-level bilingual messages."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from forms.errors import DomainError


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: where, which rule, and what to tell the user."""

    path: str
    code: str
    message_id: str
    message_en: str


class FormInvalid(DomainError):
    """Submitted data does not satisfy the form; nothing was saved."""

    code = "form-invalid"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message_en}" for e in errors),
                         message_id="; ".join(f"{e.path}: {e.message_id}" for e in errors))
        self.field_errors = errors

    @property
    def errors(self) -> dict[str, str]:
        """Map each field path to its English message."""
        return {e.path: e.message_en for e in self.field_errors}


_MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("Wajib diisi.", "This field is required."),
    "type": ("Jenis isian tidak sesuai ({expected}).", "Wrong kind of value (expected {expected})."),
    "enum": ("Pilih salah satu: {expected}.", "Choose one of: {expected}."),
    "const": ("Nilai harus {expected}.", "Value must be {expected}."),
    "minimum": ("Minimal {expected}.", "Must be at least {expected}."),
    "exclusiveMinimum": ("Harus lebih dari {expected}.", "Must be greater than {expected}."),
    "maximum": ("Maksimal {expected}.", "Must be at most {expected}."),
    "exclusiveMaximum": ("Harus kurang dari {expected}.", "Must be less than {expected}."),
    "minLength": ("Minimal {expected} karakter.", "At least {expected} characters."),
    "maxLength": ("Maksimal {expected} karakter.", "At most {expected} characters."),
    "pattern": ("Format tidak sesuai.", "Does not match the expected format."),
    "format": ("Format {expected} tidak sesuai.", "Not a valid {expected}."),
    "minItems": ("Minimal {expected} item.", "At least {expected} items."),
    "maxItems": ("Maksimal {expected} item.", "At most {expected} items."),
    "additionalProperties": ("Isian tidak dikenal: {expected}.", "Unknown field(s): {expected}."),
}

_validators: dict[int, tuple[Any, Draft202012Validator]] = {}
_lock = threading.Lock()
# An address the mailer can send to: jsonschema's own "email" check only looks for an "@", so a
# form accepted "p  yélo@contoh.id" and the applicant was never told anything.
EMAIL_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


def is_email_address(value: object) -> bool:
    """Tell whether a value is an e-mail address the platform can send to (non-strings pass)."""
    return not isinstance(value, str) or bool(EMAIL_ADDRESS.match(value))


_formats = FormatChecker()
_formats.checks("email")(is_email_address)


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    # Keyed by identity: schemas come from cached process versions and live as long as they do.
    entry = _validators.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry[1]
    validator = Draft202012Validator(schema, format_checker=_formats)
    with _lock:
        _validators[id(schema)] = (schema, validator)
    return validator


def _field_error(error: ValidationError) -> FieldError:
    path = ".".join(str(p) for p in error.absolute_path)
    expected: Any = error.validator_value
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path = f"{path}.{missing}" if path else missing
        expected = ""
    elif error.validator == "additionalProperties":
        expected = ", ".join(sorted(set(error.instance) - set(error.schema.get("properties", {}))))
    elif error.validator == "enum":
        expected = ", ".join(str(v) for v in expected)
    message_id, message_en = _MESSAGES.get(str(error.validator), ("Isian tidak valid.", "Invalid value."))
    return FieldError(path or "(form)", str(error.validator),
                      message_id.format(expected=expected), message_en.format(expected=expected))


def validate(schema: dict[str, Any] | None, data: Any) -> dict[str, Any]:
    """Return the data when it satisfies the schema; raise FormInvalid listing every bad field."""
    if not isinstance(data, dict):
        raise FormInvalid([FieldError("(form)", "type", "Data harus berupa objek.", "Data must be an object.")])
    if schema is None:
        return data
    errors = sorted(_validator(schema).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        by_path: dict[str, FieldError] = {}
        for error in errors:
            field = _field_error(error)
            by_path.setdefault(field.path, field)
        raise FormInvalid(list(by_path.values()))
    return data
