"""A small in-process sliding-window rate limiter (per API process; see docs/operations)."""

from __future__ import annotations

import threading
import time
from collections import deque

from engine.errors import DomainError


class RateLimited(DomainError):
    """Too many attempts for one key; try again after `retry_after` seconds."""

    code = "rate-limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many attempts; try again in {retry_after} s",
                         message_id=f"terlalu banyak percobaan; coba lagi dalam {retry_after} detik")
        self.retry_after = retry_after


class Limiter:
    """Allow `limit` hits per `window_s` seconds for each key; raise RateLimited beyond."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Raise a rate-limited error when `key` is over the limit, without counting this attempt."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                return
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = int(hits[0] + self.window_s - now) + 1
                raise RateLimited(retry)

    def record(self, key: str) -> None:
        """Count one attempt for `key`."""
        now = time.monotonic()
        with self._lock:
            self._hits.setdefault(key, deque()).append(now)
            if len(self._hits) > 100_000:  # forget idle keys so memory stays bounded
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.window_s}

    def hit(self, key: str) -> None:
        """Check the limit for `key`, then count this attempt."""
        self.check(key)
        self.record(key)

    def reset(self) -> None:
        """Forget every key (tests)."""
        with self._lock:
            self._hits.clear()


track_limiter = Limiter(limit=20, window_s=60)
login_limiter = Limiter(limit=10, window_s=60)
