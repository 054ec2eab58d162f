"""Who acts on the engine: a user with their platform role and memberships, or the system."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from engine.cases import hotsql as hotsql
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


# Every API request and page resolves its caller: a prepared statement of engine.cases.hotsql ("logged_in": the
# account outer-joined to its memberships), run on the session's own connection (and on PostgreSQL prepared once
# per connection). Through SQLAlchemy's Core execute the same statement cost ~35 us more CPU per request on
# SQLite, ~70 us on PostgreSQL (compile-cache lookup, result machinery, the server's parse and plan).
def logged_in_actor(session: Session, *, user_id: int, epoch: int) -> Actor | None:
    """Return the actor of an active user whose session epoch is `epoch`, with their memberships; else None.

    Read from the database on every call, never cached: a logout, a password change or a deactivation
    (each bumps or clears what is checked here) and a membership change take effect on the next request.
    """
    rows = hotsql.read_all(session, "logged_in", {"user_id": user_id})
    if not rows:
        return None
    username, platform_role, active, session_epoch = rows[0][:4]
    # A token or cookie from an earlier epoch was ended by a logout, a password change or a deactivation.
    if not active or session_epoch != epoch:
        return None
    held = frozenset((role, org) for *_, role, org in rows if role is not None)
    return Actor(user_id, username, platform_role, held)
