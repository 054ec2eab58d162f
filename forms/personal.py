"""Masking personal data for the places that show it without needing it (lists, search, exports, messages).

A field's classification comes from its form (`"x-mpp-personal"`, forms.labels). Numbers keep just
enough to tell two people apart (3471********0001, 0812****7890), e-mail its first letter and domain,
a date its year (1990-**-**), other personal text each word's first letter; sensitive text (health,
religion, records) and sensitive dates (a child's birth date) show nothing of themselves.
`mask_numbers` masks every NIK-long number inside free text (a log line, a message) whatever field
it came from: the net under the classification.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

HIDDEN = "••••"
KEEP_EDGE = 4  # digits kept at each end of a long number (a NIK, a KK number)
ISO_DATE = re.compile(r"^(\d{4})-\d{2}-\d{2}")
# A run of 16 digits (a NIK or a family card number) standing alone in text.
SIXTEEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")


def mask(value: Any, level: str = "personal") -> str:
    """Return the value masked for its classification ("personal" or "sensitive")."""
    if value is None or value == "":
        return ""
    if isinstance(value, dict | list | bool):
        return HIDDEN
    text = str(value)
    if "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}"
    compact = text.replace(" ", "").replace("-", "").lstrip("+")
    date = ISO_DATE.match(text)
    if date is not None:
        return HIDDEN if level == "sensitive" else f"{date.group(1)}-**-**"
    if compact.isdigit() and len(compact) >= 2 * KEEP_EDGE + 2:
        return text[:KEEP_EDGE] + "*" * (len(text) - 2 * KEEP_EDGE) + text[-KEEP_EDGE:]
    if level == "sensitive":
        return HIDDEN  # a short number here is an amount or a count: nothing of it is shown
    if compact.isdigit():
        return "*" * max(len(text) - 3, 1) + text[-3:] if len(text) > 3 else "***"
    words = text.split()
    return " ".join(word[:1] + "*" * min(len(word) - 1, 6) for word in words)


def mask_data(data: Mapping[str, Any], classified: Mapping[str, str]) -> dict[str, Any]:
    """Return a copy of case data with every classified field masked."""
    return {key: mask(value, classified[key]) if key in classified else value for key, value in data.items()}


def mask_sensitive(data: Mapping[str, Any], classified: Mapping[str, str]) -> dict[str, Any]:
    """Return a copy of case data with only the sensitive fields masked (for the person the data is about)."""
    return mask_data(data, {key: level for key, level in classified.items() if level == "sensitive"})


def mask_numbers(text: str) -> str:
    """Return text with every 16-digit number (a NIK, a KK number) masked as 3471********0001."""
    return SIXTEEN_DIGITS.sub(lambda found: mask(found.group(0), "sensitive"), text)
