"""Page fixtures: the API's test client and catalogue, reused (pages and API share one app)."""

from tests.api.conftest import catalogue, client, fast_password_hashing, login  # noqa: F401
