"""Signing issued documents: a small `Signer` protocol and the platform's own Ed25519 key.

What is signed is the SHA-256 digest of the issued PDF (32 bytes). The platform's signer keeps an
Ed25519 private key in `MPP_SIGNING_KEY_FILE` (default `var/signing.key`), created on first use
like `var/secret.key`; its key id is the first 16 hex digits of the SHA-256 of the raw public key.
A national signing service (BSrE, for a certified electronic signature) replaces it by
implementing `Signer` and being returned from `signer_for`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.settings import Settings


class Signer(Protocol):
    """Signs document digests and checks signatures it (or an earlier key of it) made."""

    @property
    def key_id(self) -> str:
        """Name the key new signatures are made with."""
        ...

    def sign(self, digest: bytes) -> str:
        """Sign a SHA-256 digest; return the signature as text (base64)."""
        ...

    def verify(self, digest: bytes, signature: str, key_id: str) -> bool:
        """Tell whether `signature` is a valid signature of `digest` by key `key_id`."""
        ...


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        try:  # O_EXCL: two processes starting at once keep the first key, never two
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def key_id_of(public: Ed25519PublicKey) -> str:
    """Return the id of a public key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class Ed25519Signer:
    """The platform's own signer: one Ed25519 key from a file."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self._public = private_key.public_key()
        self._key_id = key_id_of(self._public)

    @classmethod
    def from_file(cls, path: Path) -> Ed25519Signer:
        """Load the key from a PEM file, creating a new key there on first use."""
        return cls(_load_or_create(path))

    @property
    def key_id(self) -> str:
        return self._key_id

    def public_key_pem(self) -> str:
        """Return the public key (PEM), for anyone who wants to check signatures offline."""
        return self._public.public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, digest: bytes) -> str:
        return base64.b64encode(self._key.sign(digest)).decode()

    def verify(self, digest: bytes, signature: str, key_id: str) -> bool:
        if key_id != self._key_id:
            return False  # a key this platform does not hold: cannot vouch for it
        try:
            self._public.verify(base64.b64decode(signature, validate=True), digest)
        except (InvalidSignature, ValueError):
            return False
        return True


_signers: dict[Path, Ed25519Signer] = {}
_lock = threading.Lock()


def signer_for(settings: Settings) -> Signer:
    """Return the platform's signer for these settings (one per key file per process)."""
    path = settings.signing_key_file.resolve()
    with _lock:
        if path not in _signers:
            _signers[path] = Ed25519Signer.from_file(path)
        return _signers[path]
