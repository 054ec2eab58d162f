"""Run untrusted work in pre-started worker processes whose limits the kernel enforces.

A package's scripts, expressions and templates are checked by the language-level sandbox first
(`engine.bpmn.sandbox`, Jinja2's sandbox), but a check in the language cannot stop everything: one
C-level call on in-budget values (`s.encode("punycode")`, comparing two huge shared structures)
is not interruptible, and the memory check samples. So whatever is not provably cheap runs here:

- A pool of worker processes, each a clean Python (started with `subprocess`, never forked from a
  threaded web server) that has imported the sandbox once, so a call costs a pipe round trip
  (tens of microseconds), not a process start.
- Before each call the worker lowers its own limits: `RLIMIT_AS` (address space: its size now plus
  the call's memory budget) and `RLIMIT_CPU` (its CPU seconds so far plus the call's budget, so the
  kernel sends SIGXCPU, which kills it). The caller waits the call's time limit plus a grace period,
  then SIGKILLs the worker, unless the worker has not had that much CPU yet: on a busy machine a
  process can wait its turn for longer than a short script runs, and that is not the script's fault
  (a trivial script timed out, as an incident, on a loaded server). Then the caller waits on, for
  what is left of the budget, up to `PATIENCE` times the limit of wall-clock time in all.
  A killed or spent worker is replaced on the next call.
- A worker that hit MemoryError, served many calls or grew is retired after answering, so no
  state of one package's run lingers into another's for long.
- The caller's thread blocks on a pipe, never the event loop or a lock of the web server, so the
  API process, its health checks and other requests go on while a bomb runs.

Without `/proc` or `fork` (not Linux) the work runs in-process, bounded by the language guards only.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import pickle  # noqa: S403 - frames pass only between this process and its own workers
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("mpp.isolation")
_HEADER = struct.Struct("!I")
MAX_FRAME = 256 << 20
# A worker is replaced after this many calls, or once it has grown this much above its start.
RETIRE_AFTER_CALLS = 20_000
RETIRE_GROWTH_MB = 96
# What a worker imports before its first call (each call would otherwise pay for it).
PRELOAD = ("engine.bpmn.sandbox", "engine.sla.calendar", "jinja2.sandbox")
GRACE_S = 0.1  # after the time limit, before the kill: the language guards usually stop first
# A worker that has not used its time limit in CPU yet (it waited for the processor) is waited for
# up to this many times the limit, plus the grace, of wall-clock time: then it is stopped all the same.
PATIENCE = 10
_TICK_S = 1 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ProcessLimits:
    """What one isolated call may use: its time (`wall_s`), CPU seconds and memory above the worker's size.

    `wall_s` is the time the call may run: the caller stops the worker once that much wall-clock time
    has passed and the worker has used that much CPU (or, a worker starved of CPU, after `PATIENCE`
    times it); the kernel stops it after `cpu_s`.
    """

    wall_s: float = 1.0
    memory_mb: int = 256

    @property
    def cpu_s(self) -> int:
        """CPU seconds the kernel allows (whole seconds: RLIMIT_CPU's unit)."""
        return max(1, math.ceil(self.wall_s))


class IsolationLimit(Exception):
    """The isolated call ran out of time or memory, or its worker died; `limit` names which."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.message, self.limit = message, limit


_SUPPORTED = hasattr(os, "fork") and Path("/proc/self/statm").exists()
_inline = os.environ.get("MPP_ISOLATION") == "inline"


def enabled() -> bool:
    """Tell whether calls run in worker processes here (Linux with /proc and fork, not configured inline)."""
    return _SUPPORTED and not _inline


def configure(*, workers: int, inline: bool = False) -> None:
    """Set this process's pool size and mode (from settings: MPP_ISOLATION_WORKERS, MPP_ISOLATION)."""
    global _inline  # noqa: PLW0603 - one pool per process, configured by the runtime factory
    _inline = inline
    _pool.size = workers


# ---------------------------------------------------------------- frames


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def send_frame(fd: int, payload: bytes) -> None:
    """Write one length-prefixed frame to a pipe."""
    _write_all(fd, _HEADER.pack(len(payload)) + payload)


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes | None:
    """Read `size` bytes; None when the deadline passes or the other end closes."""
    chunks, left = [], size
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                return None
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def receive_frame(fd: int, deadline: float | None) -> bytes | None:
    """Read one frame; None when the deadline passes, the other end closes, or the frame is absurdly large."""
    header = _read_exact(fd, _HEADER.size, deadline)
    if header is None:
        return None
    size = _HEADER.unpack(header)[0]
    return None if size > MAX_FRAME else _read_exact(fd, size, deadline)


# ---------------------------------------------------------------- the worker (its own process)


def _statm_pages(field: int) -> int:
    with open("/proc/self/statm", "rb") as statm:  # noqa: PTH123 - the kernel's view of our size
        return int(statm.read().split()[field])


# The hard limits this process was started with: soft limits move under them, they never move.
_HARD_AS = resource.getrlimit(resource.RLIMIT_AS)[1]
_HARD_CPU = resource.getrlimit(resource.RLIMIT_CPU)[1]


def _soft(wanted: int, hard: int) -> int:
    return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)


def _answer(request: tuple[str, str, tuple[Any, ...], ProcessLimits], page: int) -> tuple[bytes, bool]:
    """Run one request under its limits; return the reply frame and whether to retire afterwards."""
    module, name, args, limits = request
    retire = False
    address_space = _statm_pages(0) * page + (limits.memory_mb << 20)
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_now = math.ceil(used.ru_utime + used.ru_stime)
    resource.setrlimit(resource.RLIMIT_AS, (_soft(address_space, _HARD_AS), _HARD_AS))
    resource.setrlimit(resource.RLIMIT_CPU, (_soft(cpu_now + limits.cpu_s, _HARD_CPU), _HARD_CPU))
    try:
        reply: tuple[str, Any] = ("ok", getattr(importlib.import_module(module), name)(*args))
    except MemoryError:
        reply, retire = ("limit", ("memory", f"used more than {limits.memory_mb} MiB of memory and was stopped")), True
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller, which decides
        reply = ("error", exc)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (_HARD_AS, _HARD_AS))
        resource.setrlimit(resource.RLIMIT_CPU, (_HARD_CPU, _HARD_CPU))
    try:
        payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - a value or exception that cannot be pickled
        detail = reply[1] if reply[0] == "error" else type(reply[1]).__name__
        payload = pickle.dumps(("error", RuntimeError(f"the isolated call returned something unreadable: {detail}")))
    return payload, retire


def serve() -> None:
    """Answer requests on stdin until it closes (a worker's main loop).

    A parent that stops while this worker still starts, or before it reads a reply, closes the pipe
    under a write: the worker then has no one to answer and ends quietly, not with a traceback in the
    server's log.
    """
    ends_quietly_without_parent(_serve)


def ends_quietly_without_parent(main: Callable[[], None]) -> None:
    """Run a worker's main loop; when the parent is gone (its pipe closed under a write), just end."""
    try:
        main()
    except BrokenPipeError:
        return


def _serve() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal stops the parent, which closes our stdin
    for module in PRELOAD:
        importlib.import_module(module)
    page = os.sysconf("SC_PAGE_SIZE")
    start_rss = _statm_pages(1) * page
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    send_frame(stdout, b"ready")
    calls = 0
    while True:
        frame = receive_frame(stdin, None)
        if frame is None:
            return
        payload, retire = _answer(pickle.loads(frame), page)  # noqa: S301 - from our parent
        calls += 1
        grown = _statm_pages(1) * page - start_rss > RETIRE_GROWTH_MB << 20
        retire = retire or grown or calls >= RETIRE_AFTER_CALLS
        send_frame(stdout, (b"R" if retire else b"K") + payload)
        if retire:
            return


# ---------------------------------------------------------------- the caller's side


_SECRET_WORDS = ("SECRET", "PASSWORD", "TOKEN", "KEY", "CREDENTIAL")


def _worker_env() -> dict[str, str]:
    """The environment a worker starts with: none of the platform's settings, nothing that looks secret."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith("MPP_") and not any(word in name.upper() for word in _SECRET_WORDS)}


class _Worker:
    """One worker process, its pipes, and its line of /proc (its CPU time so far)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-c", "from engine.isolation import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, start_new_session=True, env=_worker_env())
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:  # never: both are pipes
            raise IsolationLimit("the worker has no pipes", "died")
        self.to_worker, self.from_worker = stdin.fileno(), stdout.fileno()
        self.ready = False
        # Kept open and read again at offset 0 before each call: ~4 us, where opening it each time cost ~13 us.
        self._stat = os.open(f"/proc/{self.process.pid}/stat", os.O_RDONLY)

    def wait_ready(self) -> None:
        """Wait until the worker has imported what it preloads (it says so once, at start)."""
        if not self.ready:
            if receive_frame(self.from_worker, time.monotonic() + START_TIMEOUT_S) != b"ready":
                self.kill()
                raise IsolationLimit("the worker process did not start", "died")
            self.ready = True

    def cpu_s(self) -> float:
        """Return the CPU seconds the worker has used so far (0 once it is gone)."""
        try:
            fields = os.pread(self._stat, 1024, 0).rsplit(b")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) * _TICK_S  # utime and stime, in clock ticks

    def answer_deadline(self, limits: ProcessLimits, cpu_before: float) -> float:
        """Wait until the worker starts answering; return the deadline for the rest of its reply.

        The time limit is counted in the worker's CPU: past `limits.wall_s` (plus the grace) of
        wall-clock time, a worker that has used less waits on for the rest of its budget, until
        `PATIENCE` times the limit has passed. The deadline returned is now, or past, when it is over.
        """
        started = time.monotonic()
        deadline, ceiling = started + limits.wall_s + GRACE_S, started + PATIENCE * limits.wall_s + GRACE_S
        while True:
            wait = deadline - time.monotonic()
            if wait > 0 and select.select([self.from_worker], [], [], wait)[0]:
                return ceiling + limits.wall_s  # it is answering: a reply takes no CPU budget to read
            now = time.monotonic()
            left = limits.wall_s - (self.cpu_s() - cpu_before)
            if now >= ceiling or left <= 0 or self.process.poll() is not None:
                return now
            deadline = min(ceiling, now + left + GRACE_S)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self._stat >= 0:  # once: a worker that never got ready is killed, then dropped (killed again)
            os.close(self._stat)
            self._stat = -1
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class Pool:
    """Up to `size` workers shared by the threads of this process; a call waits for a free one."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._idle: list[_Worker] = []
        self._count = 0
        self._cond = threading.Condition()
        self._pid = os.getpid()

    def _borrow(self) -> _Worker:
        with self._cond:
            if self._pid != os.getpid():  # forked: the parent's workers are not ours
                self._idle, self._count, self._pid = [], 0, os.getpid()
            while not self._idle and self._count >= self.size:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            return _Worker()
        except BaseException:
            self._drop(None)
            raise

    def _return(self, worker: _Worker) -> None:
        with self._cond:
            self._idle.append(worker)
            self._cond.notify()

    def _drop(self, worker: _Worker | None, *, replace: bool = False) -> None:
        if worker is not None:
            worker.kill()
        with self._cond:
            self._count -= 1
            self._cond.notify()
        if replace:  # start the next one now, so the next call does not wait for its imports
            threading.Thread(target=self._spare, name="isolation-spare", daemon=True).start()

    def _spare(self) -> None:
        with self._cond:
            if self._count >= self.size:
                return
            self._count += 1
        try:
            worker = _Worker()
            worker.wait_ready()
        except Exception:  # noqa: BLE001 - a spare that fails to start is started again by the next call
            self._drop(None)
            return
        self._return(worker)

    def _ready_worker(self) -> _Worker:
        worker = self._borrow()
        try:
            worker.wait_ready()
        except BaseException:
            self._drop(worker)
            raise
        return worker

    def warm(self) -> None:
        """Start the missing workers now (at start-up), so the first call does not wait for imports.

        Never holds a worker while waiting for another: apps started side by side in one process
        (tests, embedded servers) each warm the same pool.
        """
        for _ in range(self.size):
            self._spare()

    def call(self, func: Callable[..., T], *args: Any, limits: ProcessLimits) -> T:
        """Call a module-level function with picklable arguments in a worker; return its result or raise."""
        request = pickle.dumps((func.__module__, func.__qualname__, args, limits), protocol=pickle.HIGHEST_PROTOCOL)
        worker = self._ready_worker()
        cpu_before = worker.cpu_s()
        try:
            send_frame(worker.to_worker, request)
        except OSError:
            self._drop(worker)
            worker = self._ready_worker()  # it died while idle (killed from outside): one more try on a fresh one
            cpu_before = worker.cpu_s()
            send_frame(worker.to_worker, request)
        reply = receive_frame(worker.from_worker, worker.answer_deadline(limits, cpu_before))
        if reply is None:
            status = worker.process.poll()
            self._drop(worker, replace=True)
            raise _why_stopped(status, limits)
        if reply[:1] == b"R":
            self._drop(worker, replace=True)
        else:
            self._return(worker)
        kind, value = pickle.loads(reply[1:])  # noqa: S301 - from our own worker
        if kind == "ok":
            return value  # type: ignore[no-any-return]
        if kind == "limit":
            raise IsolationLimit(value[1], value[0])
        raise value

    def close(self) -> None:
        """Stop the idle workers (tests, shutdown)."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.kill()


def _why_stopped(status: int | None, limits: ProcessLimits) -> IsolationLimit:
    if status is None:
        return IsolationLimit(f"ran longer than {limits.wall_s:g} s and was stopped", "time")
    if status == -signal.SIGXCPU:
        return IsolationLimit(f"used more than {limits.cpu_s} s of CPU time and was stopped", "cpu")
    return IsolationLimit(f"was stopped (process status {status}) before it finished; "
                          f"limits: {limits.wall_s:g} s, {limits.memory_mb} MiB", "died")


_pool = Pool()


def pool() -> Pool:
    """Return this process's pool."""
    return _pool


def run(func: Callable[..., T], *args: Any, limits: ProcessLimits) -> T:
    """Call func(*args) in a worker of this process's pool (in-process where isolation is unavailable)."""
    if not enabled():
        return func(*args)
    return _pool.call(func, *args, limits=limits)
