"""The data keyring: AES-256 keys from configuration, the first one active, the others still readable.

`MPP_DATA_KEYS="k2:<base64 32 bytes>,k1:<...>"` lists the keys, newest first. Without it (a single
machine, the tests) one key is derived from MPP_SECRET_KEY with HKDF under the id "k0"; a bare `k0`
item in the list names that derived key (to rotate away from it: `k1:<...>,k0`). The keys live
in the environment only: a stored value names its key id, never the key. The lookup-hash key (HMAC
of a normalised NIK, for search) is derived from the first configured key or the secret, never
rotated with the data keys, so lookups stay valid through a rotation.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from engine.errors import DomainError
from engine.settings import Settings

KEY_BYTES = 32
DEFAULT_KID = "k0"
KID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class KeyMissing(DomainError):
    """A stored value or file was sealed with a key id the configuration no longer has."""

    def __init__(self, kid: str) -> None:
        super().__init__(f"data key '{kid}' is not configured: add it back to MPP_DATA_KEYS "
                         f"(stored values still use it; run `mpp keys rotate` before removing a key)")
        self.kid = kid


class KeyringInvalid(DomainError):
    """MPP_DATA_KEYS cannot be read."""


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()).derive(secret)


@dataclass(frozen=True)
class Keyring:
    """The data keys by id, which one seals new values, and the lookup-hash key."""

    active: str
    keys: dict[str, bytes]
    lookup_key: bytes

    def key(self, kid: str) -> bytes:
        """Return the key with this id or raise KeyMissing naming it."""
        found = self.keys.get(kid)
        if found is None:
            raise KeyMissing(kid)
        return found


def parse_keys(text: str, secret: bytes) -> list[tuple[str, bytes]]:
    """Read `kid:<base64>` items (comma-separated, newest first; `k0`: the derived key); refuse anything malformed."""
    found: list[tuple[str, bytes]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if item == DEFAULT_KID:
            found.append((DEFAULT_KID, _derive(secret, "mpp data key k0")))
            continue
        kid, sep, encoded = item.partition(":")
        if not sep or not KID.match(kid):
            raise KeyringInvalid(f"MPP_DATA_KEYS: '{kid}' is not 'id:base64key' with an id of letters, digits, _ or -")
        encoded = encoded.strip().replace("-", "+").replace("_", "/")  # standard or URL-safe alphabet
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyringInvalid(f"MPP_DATA_KEYS: key '{kid}' is not base64") from exc
        if len(key) != KEY_BYTES:
            raise KeyringInvalid(f"MPP_DATA_KEYS: key '{kid}' has {len(key)} bytes, not {KEY_BYTES}")
        if any(kid == known for known, _ in found):
            raise KeyringInvalid(f"MPP_DATA_KEYS: key id '{kid}' is given twice")
        found.append((kid, key))
    return found


def keyring_from(settings: Settings) -> Keyring:
    """Build the keyring a configuration describes."""
    secret = settings.secret_key.get_secret_value().encode()
    configured = parse_keys(settings.data_keys.get_secret_value(), secret) if settings.data_keys else []
    if not configured:
        configured = [(DEFAULT_KID, _derive(secret, "mpp data key k0"))]
    # The lookup key comes from the secret, not from a data key: rotating data keys keeps lookups valid.
    return Keyring(configured[0][0], dict(configured), _derive(secret, "mpp lookup hash"))


_lock = threading.Lock()
_current: Keyring | None = None


def install(keyring: Keyring) -> None:
    """Make this keyring the process's (the runtime factory installs the one its settings describe)."""
    global _current
    with _lock:
        _current = keyring


def current() -> Keyring:
    """Return the process's keyring (built from the environment when no runtime installed one)."""
    global _current
    found = _current
    if found is None:
        from engine.settings import get_settings

        found = keyring_from(get_settings())
        install(found)
    return found


def new_key_text(kid: str) -> str:
    """Return a fresh `kid:<base64>` item for MPP_DATA_KEYS."""
    import secrets

    if not KID.match(kid):
        raise KeyringInvalid(f"'{kid}' is not a key id (letters, digits, _ or -, at most 16)")
    return f"{kid}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"
