"""Which fields of a process version are sealed at rest, and the sealer the persistence boundary uses.

The "sensitive" fields of a version's forms (`x-mpp-personal`, forms.labels) are sealed; "personal"
ones (names, addresses, phones) stay in clear, because name search and the counter's lists need
them, and are masked where they are shown instead (docs/privacy.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.privacy import cipher as cipher
from forms.labels import Labels

SENSITIVE = "sensitive"


def sensitive_fields(forms: dict[str, Any]) -> frozenset[str]:
    """Return the names of the fields a package's forms classify as sensitive."""
    pairs = [(schema, forms.get(name.removesuffix(".schema.json") + ".uischema.json"))
             for name, schema in sorted(forms.items()) if name.endswith(".schema.json")]
    return frozenset(name for name, level in Labels.from_forms(pairs).personal_fields().items() if level == SENSITIVE)


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Sealer:
    """Seals the sensitive fields of one process version; an empty set seals nothing."""

    sensitive: frozenset[str] = frozenset()

    def seal(self, data: dict[str, Any], dump: Callable[[Any], str] = _dump) -> dict[str, Any]:
        """Return the data with its sensitive values sealed."""
        return cipher.seal_fields(data, self.sensitive, dump=dump) if self.sensitive else data

    def seal_diff(self, diff: dict[str, Any] | None) -> dict[str, Any] | None:
        """Return a history diff with the sensitive values it sets sealed."""
        if not self.sensitive or not diff or not isinstance(diff.get("set"), dict):
            return diff
        return {**diff, "set": self.seal(diff["set"])}


NO_SEALING = Sealer()
