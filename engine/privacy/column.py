"""Columns whose sealed values open as they are read (case data, history diffs, document holders).

Writers seal at the persistence boundary, where they know the case's classification
(`fields.Sealer`); every reader gets plain values without knowing anything about keys.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from engine.privacy import cipher as cipher


class SealedJSON(TypeDecorator[Any]):
    """JSON whose `enc:1:` values (at any depth) are opened on read; values are written as given."""

    impl = JSON
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return cipher.open_tree(value) if value is not None else None


class SealedString(TypeDecorator[str]):
    """A text column that may hold one sealed value (sealed for the column's own name), opened on read."""

    impl = String
    cache_ok = True

    def __init__(self, length: int, *, field: str) -> None:
        super().__init__(length)
        self.field = field

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not cipher.is_sealed(value):
            return value
        return str(json.loads(cipher.open_text(self.field, value)))
