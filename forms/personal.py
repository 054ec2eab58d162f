"""Masking personal data for the places that show it without needing it (lists, search, exports, messages).

A field's classification comes from its form (`"x-mpp-personal"`, forms.labels). Numbers keep just
enough to tell two people apart (3471********0001, 0812****7890), e-mail its first letter and domain,
other personal text each word's first letter; sensitive text (health, religion, records) shows
nothing of itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HIDDEN = "••••"
KEEP_EDGE = 4  # digits kept at each end of a long number (a NIK, a KK number)


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
    if compact.isdigit() and len(compact) >= 2 * KEEP_EDGE + 2:
        return text[:KEEP_EDGE] + "*" * (len(text) - 2 * KEEP_EDGE) + text[-KEEP_EDGE:]
    if compact.isdigit():
        return "*" * max(len(text) - 3, 1) + text[-3:] if len(text) > 3 else "***"
    if level == "sensitive":
        return HIDDEN
    words = text.split()
    return " ".join(word[:1] + "*" * min(len(word) - 1, 6) for word in words)


def mask_data(data: Mapping[str, Any], classified: Mapping[str, str]) -> dict[str, Any]:
    """Return a copy of case data with every classified field masked."""
    return {key: mask(value, classified[key]) if key in classified else value for key, value in data.items()}
