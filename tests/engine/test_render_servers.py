"""Isolated calls of one process run side by side, each on a render server of its own, up to `isolate.SERVERS`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.documents import isolate
from tests.engine import worker_probe


@pytest.mark.skipif(isolate.SERVERS < 2, reason="one core: one render server")
def test_two_calls_at_once_run_in_two_render_servers_and_the_warm_one_is_used_alone(tmp_path: Path) -> None:
    (tmp_path / "both").mkdir()
    with ThreadPoolExecutor(max_workers=2) as pool:
        met = list(pool.map(lambda _: isolate.run(worker_probe.meet, str(tmp_path / "both"), 2), range(2)))
    assert [ok for _server, ok in met] == [True, True]  # neither waited for the other to end
    servers = {server for server, _ok in met}
    assert len(servers) == 2
    (tmp_path / "alone").mkdir()
    # One call at a time takes the server used last, again and again: the second starts only when two calls meet.
    alone = {isolate.run(worker_probe.meet, str(tmp_path / "alone"), 1)[0] for _ in range(3)}
    assert len(alone) == 1
    assert alone <= servers
