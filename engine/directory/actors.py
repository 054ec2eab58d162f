"""Who acts on the engine: a user with their platform role and memberships, or the system."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from engine.directory.service import memberships_of
from engine.models import User


@dataclass(frozen=True)
class Actor:
    """The person (or the system) on whose behalf an engine operation runs."""

    user_id: int | None
    username: str
    platform_role: str
    memberships: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @property
    def is_staff(self) -> bool:
        return self.platform_role in ("admin", "analyst", "officer")

    def holds(self, role: str) -> bool:
        """Tell whether the actor holds a role in any organisation."""
        return any(r == role for r, _ in self.memberships)


SYSTEM = Actor(None, "system", "system")


def actor_for(session: Session, user: User) -> Actor:
    """Build the actor of a user, with the memberships they hold now."""
    return Actor(user.id, user.username, user.platform_role, frozenset(memberships_of(session, user.id)))
