"""The root of every error raised on purpose, from the forms layer up to the web edge."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error the platform raises on purpose; `code` names its kind.

    `code` is the stable slug of the problem type the web edge answers with (`/api/problems/<code>`):
    the one table in `api/errors.py` maps it to a status and a title, for the API and the pages alike.
    A subclass without its own kind of problem inherits its parent's code. The root lives in
    `forms`, the lowest layer, so that `FormInvalid` can derive from it without importing the
    engine; `engine.errors` re-exports it.
    """

    code = "internal"

    def __init__(self, message: str, *, message_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.message_id = message_id

    def text(self, lang: str = "en") -> str:
        """Return the message in a language: `id` (falling back to English) or `en`."""
        return self.message_id or self.message if lang == "id" else self.message
