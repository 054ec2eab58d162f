"""A NIK check waits on the civil registry outside the request threads: a slow registry holds up no other request.

The app runs with one request thread (`MPP_REQUEST_THREADS=1`). The registry holds its answer until the test lets
it go; meanwhile another request of the same process is answered, and only then does the check get its verdict.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine.context import AppContext
from tests.admin.conftest import Login, page_login  # noqa: F401 - the fixture
from tests.portal.test_nik_check import NAME, NIK, URL, bind
from tests.simulators.base import Answer, Received
from tests.simulators.dukcapil import Registry


class HeldRegistry(Registry):
    """The simulator, answering each check only when the test lets it go (or after 10 s)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked, self.release = threading.Event(), threading.Event()

    def answer(self, request: Received) -> Answer:
        self.asked.set()
        self.release.wait(timeout=10)
        return super().answer(request)


@pytest.fixture
def client(catalogue: AppContext) -> Iterator[TestClient]:
    one_thread = replace(catalogue, settings=catalogue.settings.model_copy(update={"request_threads": 1}))
    try:
        with TestClient(create_app(one_thread), raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        create_app(catalogue)  # the default thread count again for the tests that follow


@pytest.fixture
def registry(catalogue: AppContext) -> Iterator[HeldRegistry]:
    with HeldRegistry() as running:
        bind(catalogue, running.url)
        yield running


def test_other_requests_are_answered_while_the_registry_is_slow(client: TestClient, page_login: Login,  # noqa: F811
                                                                 registry: HeldRegistry) -> None:
    token = page_login("warga")
    verdict: list[dict[str, object]] = []
    checked = threading.Event()

    def check() -> None:
        response = client.post(URL, data={"csrf_token": token, "nik": NIK, "nama_pemohon": NAME},
                               headers={"Accept": "application/json"})
        verdict.append({"status": response.status_code, **response.json()})
        checked.set()

    checking = threading.Thread(target=check)
    checking.start()
    try:
        assert registry.asked.wait(timeout=10)
        # The one request thread is free: the service page is answered while the registry still holds the check.
        assert client.get("/layanan/pbg/ajukan").status_code == 200
        assert not checked.is_set()
    finally:
        registry.release.set()
        checking.join(timeout=10)
    assert verdict == [{"status": 200, "verdict": "match", "message": verdict[0]["message"]}]
