"""Form fixtures: a counting HTTP server, and the API's client for deploying and applying over HTTP."""

from collections.abc import Iterator

import pytest

from tests.api.conftest import catalogue, client, fast_password_hashing, login  # noqa: F401
from tests.forms.traps import Trap, http_trap


@pytest.fixture
def trap() -> Iterator[Trap]:
    """A local HTTP server that counts every connection; a test asserts it saw none."""
    with http_trap() as running:
        yield running
