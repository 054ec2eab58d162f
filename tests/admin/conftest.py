"""What the staff-page tests share: the app with the catalogue, and a login through the login form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import DEMO_PASSWORD
from tests.api.conftest import catalogue, client, fast_password_hashing  # noqa: F401 - fixtures

Login = Callable[[str], str]


@pytest.fixture
def page_login(client: TestClient) -> Login:  # noqa: F811 - the imported fixture
    """Return a function that logs a user in through the login form (demo password); it returns the CSRF token."""

    def login(username: str) -> str:
        client.cookies.clear()
        client.get("/masuk")
        token = client.cookies["mpp_csrf"]
        response = client.post("/masuk", data={"username": username, "password": DEMO_PASSWORD,
                                               "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303, response.text
        return client.cookies["mpp_csrf"]

    return login
