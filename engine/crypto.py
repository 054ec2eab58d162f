"""Secrets at rest: sealed (Fernet) with a key derived from MPP_SECRET_KEY, one derivation per purpose.

A secret the platform must send on (a webhook signing secret, a partner's API token) cannot be
hashed; it is sealed instead. Each purpose derives its own key with HKDF, so a value sealed for
one purpose cannot be opened as another's.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from engine.errors import DomainError


class SecretUnreadable(DomainError):
    """A sealed secret cannot be opened: MPP_SECRET_KEY changed since it was stored."""


def _fernet(key: str, purpose: str) -> Fernet:
    derived = HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose.encode()).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str, *, key: str, purpose: str) -> str:
    """Encrypt a secret for storage."""
    return _fernet(key, purpose).encrypt(secret.encode()).decode()


def unseal(sealed: str, *, key: str, purpose: str, what: str = "secret") -> str:
    """Decrypt a stored secret; raise SecretUnreadable when the key changed."""
    try:
        return _fernet(key, purpose).decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(f"the {what} cannot be read: MPP_SECRET_KEY changed; set it again") from exc
