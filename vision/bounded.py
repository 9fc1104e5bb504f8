"""Run one call on an untrusted file in a child process with a wall-clock and a memory bound.

A crafted or damaged video can make a demuxer loop for a long time or allocate without
limit inside native code, where no Python check reaches. :func:`call_bounded` forks a
child that lowers its own address-space limit (``RLIMIT_AS``), runs the call and sends
the result back as JSON through a pipe; the parent kills the child when the time is up.

* The result crosses the process boundary as JSON only (never a pickle): a child
  compromised by a crafted file can hand back wrong numbers, not code.
* Errors raised on purpose in the child (:class:`metrics.errors.GaitscopeError`
  subclasses) come back as the same class with the same message.
* Where ``fork`` is not available or not safe (Windows, macOS) the call runs in this
  process; callers keep their own in-loop bounds for that case.

Cost: a fork of the calling process, about 20-60 ms.
"""

from __future__ import annotations

import faulthandler
import json
import os
import select
import signal
import sys
import time
import warnings
from typing import Callable

try:  # imported here, not in the child: a fork may copy another thread's import lock
    import resource
except ImportError:  # not POSIX
    resource = None

from metrics import errors as _errors
from metrics.errors import GaitscopeError, VideoError

__all__ = ["call_bounded", "fork_available", "EXTRA_MEMORY_BYTES"]

#: Address space the child may add to what it inherits (decoder threads reserve a lot of
#: virtual memory: 64 MB malloc arena and a stack per thread; one 8K frame is ~100 MB).
EXTRA_MEMORY_BYTES = 3 * 1024**3
#: Largest JSON answer accepted from a child.
_MAX_ANSWER_BYTES = 64 * 1024**2


def fork_available() -> bool:
    """True where a forked child can run native decoding safely (Linux)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _child(fn: Callable, args: tuple, extra_memory_bytes: int, w: int) -> None:
    """Body of the child: limit memory, call, write one JSON answer, exit without cleanup."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        faulthandler.disable()  # a crash here is reported by the parent as a damaged file, not as a dump
        if resource is not None:
            try:
                limit = _vm_size_bytes() + int(extra_memory_bytes)
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            except (ValueError, OSError):
                pass
        try:
            answer = {"ok": fn(*args)}
        except GaitscopeError as exc:
            answer = {"error": type(exc).__name__, "message": str(exc)}
        except MemoryError:
            answer = {"error": "MemoryError", "message": ""}
        data = json.dumps(answer).encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(w, view):]
    except BaseException:  # noqa: BLE001 - the child must never return into the parent's code
        code = 1
    finally:
        os._exit(code)


def call_bounded(fn: Callable, args: tuple, timeout_s: float, what: str,
                 extra_memory_bytes: int = EXTRA_MEMORY_BYTES):
    """``fn(*args)`` in a forked child; returns its JSON-able result.

    Parameters
    ----------
    fn : a module-level function returning JSON-serialisable data.
    args : its arguments.
    timeout_s : wall-clock bound; the child is killed after it.
    what : the file's name, for messages.
    extra_memory_bytes : address space the child may use beyond what it inherits.

    Raises
    ------
    VideoError when the child runs out of time or memory or dies; the child's own
    ``GaitscopeError`` (same class and message) when it raised one.
    """
    if not fork_available():
        return json.loads(json.dumps(fn(*args)))  # same shape of answer as from a child
    r, w = os.pipe()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: the child only decodes
            pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return json.loads(json.dumps(fn(*args)))
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(r)
        _child(fn, args, extra_memory_bytes, w)
    os.close(w)
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + timeout_s
    status = None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise VideoError(
                    f"{what}: reading the file took longer than {timeout_s:.0f} s, so gaitscope stopped; "
                    "the file is damaged or not an ordinary video. Export the clip from the phone again."
                )
            ready, _, _ = select.select([r], [], [], min(left, 0.5))
            if not ready:
                continue
            block = os.read(r, 1 << 20)
            if not block:
                break
            size += len(block)
            if size > _MAX_ANSWER_BYTES:
                raise VideoError(f"{what}: the file's index is implausibly large; the file is damaged or crafted.")
            chunks.append(block)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(r)
        if status is None:
            _kill(pid)
    return _answer(b"".join(chunks), status, what, extra_memory_bytes)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _answer(data: bytes, status: int, what: str, extra_memory_bytes: int):
    memory = (f"{what}: reading the file needed more than {extra_memory_bytes / 1024**3:.0f} GB of memory, "
              "so gaitscope stopped; the file is damaged or not an ordinary video. Export the clip again.")
    try:
        answer = json.loads(data.decode("utf-8")) if data else None
    except (UnicodeDecodeError, ValueError):
        answer = None
    if not isinstance(answer, dict):
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT):
            raise VideoError(f"{what}: the video decoder failed on this file (it is damaged or crafted). "
                             "Export the clip from the phone again.")
        raise VideoError(memory)
    if "ok" in answer:
        return answer["ok"]
    name, message = str(answer.get("error")), str(answer.get("message", ""))
    if name == "MemoryError":
        raise VideoError(memory)
    cls = getattr(_errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, GaitscopeError)):
        cls = VideoError
    raise cls(message)
