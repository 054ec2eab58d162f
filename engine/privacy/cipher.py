"""Authenticated encryption of single values and of files, as compact tagged strings and bytes.

A sealed value is `enc:1:<kid>:<base64url(nonce | ciphertext | tag)>`: AES-256-GCM with a random
96-bit nonce and the field's name as associated data, so a ciphertext copied into another field does
not open. Readers recognise the tag, so values written before encryption (or of unclassified fields)
are read as they are. A sealed file starts with `MPPENC1:<kid>:` and binds the plaintext's sha256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.errors import DomainError
from engine.privacy import keys as keys

PREFIX = "enc:1:"
FILE_MAGIC = b"MPPENC1:"
NONCE_BYTES = 12


class SealBroken(DomainError):
    """A sealed value or file does not open: it was altered, moved to another field, or the key is wrong."""


def is_sealed(value: object) -> bool:
    """Tell whether a stored value is a sealed one."""
    return isinstance(value, str) and value.startswith(PREFIX)


def kid_of(token: str) -> str:
    """Return the key id a sealed value names."""
    return token[len(PREFIX):].split(":", 1)[0]


def _aead(kid: str, keyring: keys.Keyring) -> AESGCM:
    return AESGCM(keyring.key(kid))


def seal_text(field: str, text: str, keyring: keys.Keyring | None = None) -> str:
    """Seal one value's JSON text for the named field with the active key."""
    ring = keyring or keys.current()
    nonce = os.urandom(NONCE_BYTES)
    body = nonce + _aead(ring.active, ring).encrypt(nonce, text.encode(), field.encode())
    return f"{PREFIX}{ring.active}:{base64.urlsafe_b64encode(body).rstrip(b'=').decode()}"


def open_text(field: str, token: str, keyring: keys.Keyring | None = None) -> str:
    """Open a sealed value of the named field back into its JSON text."""
    ring = keyring or keys.current()
    kid, _, encoded = token[len(PREFIX):].partition(":")
    aead = _aead(kid, ring)  # KeyMissing names the kid before anything is decoded
    try:
        body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        return aead.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], field.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise SealBroken(f"the sealed value of '{field}' does not open with key '{kid}'") from exc


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def seal_fields(data: dict[str, Any], sensitive: Iterable[str], *, dump: Callable[[Any], str] = _dump,
                keyring: keys.Keyring | None = None) -> dict[str, Any]:
    """Return a copy of the data with the sensitive fields' values sealed (None and sealed ones kept)."""
    names = [name for name in sensitive if name in data]
    if not names:
        return data
    ring = keyring or keys.current()
    out = dict(data)
    for name in names:
        value = out[name]
        if value is not None and not is_sealed(value):
            out[name] = seal_text(name, dump(value), ring)
    return out


def open_fields(data: dict[str, Any], *, keyring: keys.Keyring | None = None) -> dict[str, Any]:
    """Return the data with its sealed values opened (the data itself when none is sealed)."""
    sealed = [name for name, value in data.items() if is_sealed(value)]
    if not sealed:
        return data
    ring = keyring or keys.current()
    out = dict(data)
    for name in sealed:
        out[name] = json.loads(open_text(name, out[name], ring))
    return out


def open_tree(value: Any, *, keyring: keys.Keyring | None = None) -> Any:
    """Open every sealed value anywhere in JSON (a case's data, a history diff, nested sets)."""
    if isinstance(value, dict):
        opened = {k: open_tree(v, keyring=keyring) for k, v in value.items()} if any(
            isinstance(v, dict | list) for v in value.values()) else value
        return open_fields(opened, keyring=keyring)
    if isinstance(value, list):
        return [open_tree(item, keyring=keyring) for item in value]
    return value


def lookup_hash(value: object, keyring: keys.Keyring | None = None) -> str | None:
    """Return the HMAC-SHA256 of a NIK-like value's digits (the search key), None when it has none."""
    digits = "".join(ch for ch in str(value) if ch.isdigit()) if value is not None else ""
    if not digits:
        return None
    ring = keyring or keys.current()
    return hmac.new(ring.lookup_key, digits.encode(), hashlib.sha256).hexdigest()


def seal_bytes(data: bytes, *, sha256: str, keyring: keys.Keyring | None = None) -> bytes:
    """Seal a file's bytes with the active key, bound to the plaintext's hash."""
    ring = keyring or keys.current()
    nonce = os.urandom(NONCE_BYTES)
    return FILE_MAGIC + ring.active.encode() + b":" + nonce + _aead(ring.active, ring).encrypt(
        nonce, data, sha256.encode())


def file_kid(head: bytes) -> str | None:
    """Return the key id of sealed file bytes (their first bytes suffice), None for a plain file."""
    if not head.startswith(FILE_MAGIC):
        return None
    return head[len(FILE_MAGIC):].split(b":", 1)[0].decode(errors="replace")


def open_bytes(blob: bytes, *, sha256: str, keyring: keys.Keyring | None = None) -> bytes:
    """Return a stored file's plaintext: open it when sealed, else the bytes as they are (legacy files)."""
    kid = file_kid(blob[:64])
    if kid is None:
        return blob
    ring = keyring or keys.current()
    aead = _aead(kid, ring)
    rest = blob[len(FILE_MAGIC) + len(kid.encode()) + 1:]
    try:
        return aead.decrypt(rest[:NONCE_BYTES], rest[NONCE_BYTES:], sha256.encode())
    except InvalidTag as exc:
        raise SealBroken(f"the stored file {sha256[:12]}… does not open with key '{kid}'") from exc
