"""Tracking numbers and PINs: short, unguessable, easy to read aloud over a counter."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Crockford's base32 without I, L, O, U: no letter can be mistaken for a digit when read aloud.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_tracking_number() -> str:
    """Return a tracking number like `MPP-7K3Q-9XWD` (40 random bits)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"MPP-{chars[:4]}-{chars[4:]}"


def normalise(number: str) -> str:
    """Normalise what a person typed: case, spaces, and look-alike letters."""
    cleaned = number.strip().upper().replace(" ", "").replace("-", "")
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if cleaned.startswith("MPP"):
        cleaned = cleaned[3:]
    return f"MPP-{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else number.strip().upper()


def new_pin() -> str:
    """Return a 6-digit PIN for public tracking."""
    return f"{secrets.randbelow(10**6):06d}"


def hash_pin(pin: str, tracking_number: str, secret: str) -> str:
    """Keyed hash of a PIN, bound to its tracking number."""
    message = f"{tracking_number}:{pin.strip()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def pin_matches(pin: str, tracking_number: str, secret: str, stored: str) -> bool:
    """Check a PIN in constant time."""
    return hmac.compare_digest(hash_pin(pin, tracking_number, secret), stored)
