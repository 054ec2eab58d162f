"""Check a NIK and a name against the civil registry (the bound system `dukcapil`) before filing.

The platform's simple civil-registry contract (docs/connectors.md, "NIK check"):
`POST {base_url}/nik/verifikasi` with `{"nik": "...", "nama": "..."}` answers `{"cocok": true|false}`.
The registry compares the names, not us. The answer given back is only a verdict: match, mismatch
or unavailable (unbound, timeout, 5xx, an answer outside the contract); never the registry's data.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from engine.connectors import bindings as bindings
from engine.connectors import http as http
from engine.crypto import SecretUnreadable
from engine.errors import InvalidInput
from engine.settings import Settings

log = logging.getLogger("mpp.connectors.identity")
SYSTEM = "dukcapil"
PATH = "/nik/verifikasi"
TIMEOUT_S = 3.0
NIK_FORMAT = re.compile(r"[0-9]{16}")  # the catalogue forms' pattern ^[0-9]{16}$
MAX_NAME = 200
NIK_FIELD = "nik"
NAME_FIELDS = ("nama_pemohon", "nama_lengkap", "nama")  # the catalogue's names of the applicant's own name


class Outcome(StrEnum):
    """What a NIK check can say: nothing more."""

    MATCH = "match"
    MISMATCH = "mismatch"
    UNAVAILABLE = "unavailable"


_TEXTS = {
    Outcome.MATCH: ("NIK cocok dengan nama pemohon menurut Dukcapil.",
                    "The NIK matches the applicant's name in the civil registry."),
    Outcome.MISMATCH: ("NIK tidak cocok dengan nama pemohon menurut Dukcapil. Periksa kembali NIK dan nama "
                       "sesuai KTP; permohonan tetap dapat dikirim dan diperiksa petugas.",
                       "The NIK does not match the applicant's name in the civil registry. Check the NIK and "
                       "the name as on the ID card; the application can still be sent and an officer checks it."),
    Outcome.UNAVAILABLE: ("NIK tidak dapat diperiksa saat ini; permohonan tetap dapat dikirim dan diperiksa petugas.",
                          "The NIK cannot be checked now; the application can still be sent and an officer "
                          "checks it."),
}


@dataclass(frozen=True)
class Verdict:
    """The answer of a NIK check: an outcome and its message in both languages."""

    outcome: Outcome
    message_id: str
    message_en: str

    def text(self, lang: str) -> str:
        """Return the message in a language (`en`, else Bahasa Indonesia)."""
        return self.message_en if lang == "en" else self.message_id


def verdict(outcome: Outcome) -> Verdict:
    """Return the verdict of an outcome with its standard message."""
    message_id, message_en = _TEXTS[outcome]
    return Verdict(outcome, message_id, message_en)


class IdentityInputInvalid(InvalidInput):
    """The NIK or the name cannot be sent as typed; `field` names which."""

    def __init__(self, field: str, message_en: str, message_id: str) -> None:
        super().__init__(message_en, message_id=message_id)
        self.field = field


def name_field(schema: dict[str, Any]) -> str | None:
    """Return the applicant-name field a form's NIK is checked with, or None when the form has no NIK check."""
    properties = schema.get("properties")
    if not isinstance(properties, dict) or NIK_FIELD not in properties:
        return None
    return next((name for name in NAME_FIELDS if name in properties), None)


def check_input(*, nik: str, name: str) -> tuple[str, str]:
    """Return the NIK and name trimmed; raise IdentityInputInvalid when either cannot be checked."""
    nik, name = nik.strip(), " ".join(name.split())
    if not NIK_FORMAT.fullmatch(nik):
        raise IdentityInputInvalid("nik", "The NIK must be 16 digits.", "NIK harus 16 angka.")
    if not name or len(name) > MAX_NAME:
        raise IdentityInputInvalid("nama", "Type the applicant's name as on the ID card first.",
                                   "Isi dahulu nama pemohon sesuai KTP.")
    return nik, name


def verify_nik(session: Session, *, settings: Settings, nik: str, name: str) -> Verdict:
    """Ask the bound civil registry whether a NIK belongs to a name; unavailable when it cannot say."""
    prepared = prepare(session, settings=settings, nik=nik, name=name)
    return prepared if isinstance(prepared, Verdict) else ask(prepared)


def prepare(session: Session, *, settings: Settings, nik: str, name: str) -> http.Request | Verdict:
    """Build the registry request from the binding (the database's part), or the verdict when there is none.

    A caller that holds a transaction ends it between `prepare` and `ask`: the call may wait seconds
    on the registry, and SQLite's write lock must not wait with it.
    """
    nik, name = check_input(nik=nik, name=name)
    # The registry is the platform's, not an agency's: the all-agencies binding of this environment.
    row = bindings.resolve(session, system=SYSTEM, agency=bindings.ALL_AGENCIES, settings=settings)
    if row is None:
        return verdict(Outcome.UNAVAILABLE)
    try:
        headers = bindings.auth_headers(row, key=settings.secret_key.get_secret_value())
    except SecretUnreadable:
        log.warning("the secret of the '%s' binding cannot be opened", SYSTEM)
        return verdict(Outcome.UNAVAILABLE)
    return http.Request("POST", row.base_url + PATH, {"Accept": "application/json", **headers},
                        {"nik": nik, "nama": name})


def ask(request: http.Request) -> Verdict:
    """Send a prepared request to the registry (no database) and read its answer."""
    try:
        answer = http.send(request, timeout_s=TIMEOUT_S)
    except http.CallFailed as exc:
        log.warning("NIK check unavailable: %s", exc)  # never the NIK or the name in the log
        return verdict(Outcome.UNAVAILABLE)
    return verdict(_read(answer))


def _read(answer: http.Answer) -> Outcome:
    """Return the outcome an answer states; unavailable for anything but 200 with a boolean `cocok`."""
    if answer.status != 200:
        log.warning("NIK check refused by the registry: HTTP %s", answer.status)
        return Outcome.UNAVAILABLE
    try:
        said = json.loads(answer.text).get("cocok")
    except (ValueError, AttributeError):
        said = None
    if not isinstance(said, bool):
        log.warning("NIK check: the registry's answer is outside the contract")
        return Outcome.UNAVAILABLE
    return Outcome.MATCH if said else Outcome.MISMATCH
