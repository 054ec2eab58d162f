"""Accounts: argon2id password hashes, authentication, and ending an account's sessions."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.models import User

_hasher = PasswordHasher()
# Spent on unknown usernames too, so response time does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not a real password")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """Return an argon2id hash of a password that meets the minimum length."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """Return the active user with this username and password, or None."""
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.active and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active or not user.password_hash:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
        session.flush()
    return user


def end_sessions(session: Session, *, user: User) -> None:
    """End every browser session and API token of the account: they carry an epoch that is now past."""
    user.session_epoch = User.session_epoch + 1  # in SQL, so two concurrent bumps both count
    session.flush()


def set_password(session: Session, *, user: User, password: str) -> None:
    """Give the account a new password and end its sessions and tokens."""
    user.password_hash = hash_password(password)
    end_sessions(session, user=user)
