"""Run untrusted work (a package's document template) in a child process with bounded memory and time.

Jinja2's sandbox stops a template from reaching Python's internals, but not from asking for a
billion-character string or looping for minutes. So rendering runs in a child process forked
per call from a small render server: a clean, single-threaded Python process started once (on
first use) that has imported the rendering code and run its `warm_up` (a trusted sample render, so
that what a first render loads lazily is loaded once, before any fork, not again in every child),
so a fork costs milliseconds, copies no web server threads or locks, and re-runs nothing of the
parent's `__main__` (which multiprocessing's forkserver would). The child caps its own address
space (RLIMIT_AS) and CPU time (RLIMIT_CPU); the server kills it at the wall-clock limit. A
process runs at most `SERVERS` calls at once, each on a render server of its own (a second one
starts only when two calls meet); a server that dies is started again. Without `fork` (not
POSIX) the work runs in-process, bounded only by the sandbox.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle  # noqa: S403 - frames pass only between this process and its own render server
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from engine.isolation import ends_quietly_without_parent, receive_frame, send_frame

T = TypeVar("T")
log = logging.getLogger("mpp.documents")
ROOT = Path(__file__).resolve().parents[2]
PRELOAD = ("engine.documents.pdf",)


@dataclass(frozen=True)
class ChildLimits:
    """How long and how much memory one isolated call may use."""

    timeout_s: float = 10.0
    memory_mb: int = 256


class IsolationLimit(Exception):
    """The isolated work ran out of time or memory, or its process died."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------- the render server (its own process)


def _child(request: tuple[str, str, tuple[Any, ...], ChildLimits], out: int, base_size: int) -> None:
    module, name, args, limits = request
    import resource

    try:
        memory = base_size + limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(limits.timeout_s) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        result: tuple[str, Any] = ("ok", getattr(importlib.import_module(module), name)(*args))
    except MemoryError:
        result = ("error", IsolationLimit(f"used more than {limits.memory_mb} MiB of memory"))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the caller, which decides
        result = ("error", exc)
    try:
        payload = pickle.dumps(result)
    except Exception:  # noqa: BLE001 - an exception that cannot be pickled
        payload = pickle.dumps(("error", IsolationLimit(f"{type(result[1]).__name__}: {result[1]}")))
    with os.fdopen(out, "wb") as stream:
        stream.write(payload)


def _run_forked(request: tuple[str, str, tuple[Any, ...], ChildLimits], base_size: int) -> bytes:
    limits = request[3]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, write the result, leave without running any cleanup
        os.close(read_end)
        try:
            _child(request, write_end, base_size)
        finally:
            os._exit(0)
    os.close(write_end)
    deadline, chunks = time.monotonic() + limits.timeout_s, []
    with os.fdopen(read_end, "rb", buffering=0) as stream:
        while time.monotonic() < deadline and select.select([stream], [], [], deadline - time.monotonic())[0]:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return pickle.dumps(("error", IsolationLimit(f"took longer than {limits.timeout_s:g} s")))
    _pid, status = os.waitpid(pid, 0)
    if status != 0 or not chunks:
        return pickle.dumps(("error", IsolationLimit(
            f"stopped before it finished (limits: {limits.timeout_s:g} s, {limits.memory_mb} MiB)")))
    return b"".join(chunks)


def serve() -> None:
    """Answer render requests on stdin/stdout until stdin closes (the render server's main loop).

    A parent gone before it reads a reply closes the pipe under the write: the server ends quietly.
    """
    ends_quietly_without_parent(_serve)


def _serve() -> None:
    for name in PRELOAD:
        module = importlib.import_module(name)
        warm_up = getattr(module, "warm_up", None)
        if warm_up is not None:
            try:  # a cold child renders all the same, only slower
                warm_up()
            except Exception as exc:  # noqa: BLE001 - the server serves regardless
                log.warning("render server: %s.warm_up failed: %s: %s", name, type(exc).__name__, exc)
    with open("/proc/self/statm") as statm:  # noqa: PTH123 - the kernel's view of our size
        base_size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    while True:
        frame = receive_frame(stdin, None)
        if frame is None:
            return
        send_frame(stdout, _run_forked(pickle.loads(frame), base_size))  # noqa: S301 - from our parent


# ---------------------------------------------------------------- the caller's side


class _Server:
    """The render server this process talks to, started on first use and again after it dies."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-c", "from engine.documents.isolate import serve; serve()"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT)
        return self._process

    def call(self, request: tuple[str, str, tuple[Any, ...], ChildLimits]) -> bytes:
        with self._lock:
            process = self._ensure()
            stdin, stdout = process.stdin, process.stdout
            if stdin is None or stdout is None:  # never: both are pipes
                raise IsolationLimit("the render server has no pipes")
            try:
                send_frame(stdin.fileno(), pickle.dumps(request))
            except BrokenPipeError:
                process.kill()
                raise IsolationLimit("the render server stopped; try again") from None
            # Importing the renderer on a cold start takes a moment; then the child's own limit applies.
            reply = receive_frame(stdout.fileno(), time.monotonic() + request[3].timeout_s + 30)
            if reply is None:
                process.kill()
                process.wait()
                raise IsolationLimit("the render server did not answer")
            return reply


# How many calls of one process may run at once, each with a render server of its own: the job worker renders
# documents side by side (engine.jobs), the API processes seldom render two at a time. A render is CPU work in
# its child, so more than the cores would only queue in the kernel instead of here.
SERVERS = max(1, min(2, os.cpu_count() or 1))


class _Servers:
    """The render servers of this process: one started on first use, another only while one is busy."""

    def __init__(self, most: int) -> None:
        self._idle: queue.LifoQueue[_Server] = queue.LifoQueue()  # the warmest first
        self._slots = threading.BoundedSemaphore(most)

    def call(self, request: tuple[str, str, tuple[Any, ...], ChildLimits]) -> bytes:
        with self._slots:  # at most `most` calls hold a server, so no more than `most` are ever made
            try:
                server = self._idle.get_nowait()
            except queue.Empty:
                server = _Server()
            try:
                return server.call(request)
            finally:
                self._idle.put(server)


_servers = _Servers(SERVERS)


def run(func: Callable[..., T], *args: Any, limits: ChildLimits | None = None) -> T:
    """Call a module-level function with picklable arguments in a bounded child process; return its result."""
    limits = limits or ChildLimits()
    if not hasattr(os, "fork") or not Path("/proc/self/statm").exists():
        return func(*args)
    status, value = pickle.loads(_servers.call((func.__module__, func.__qualname__, args, limits)))  # noqa: S301
    if status == "ok":
        return value  # type: ignore[no-any-return]
    raise value
