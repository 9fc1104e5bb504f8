"""Worker processes for :func:`vision.parallel.estimate_track_parallel` (``backend="process"``).

Each worker process opens the file itself, decodes only its own run of segments and sends
back small arrays and a running count of frames done; no frame crosses a process
boundary. Workers use the ``spawn`` method (MediaPipe's threads do not survive ``fork``).
They are terminated when the caller cancels (``on_progress`` returns ``False``), when any
worker fails and when the parent is interrupted; a worker also stops by itself if its
parent disappears. A worker's :class:`~metrics.errors.GaitscopeError` is raised again in
the parent with the same class and message.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import queue as queue_mod
import signal
import time
import traceback

from metrics.errors import Cancelled, GaitscopeError
from metrics.track import PoseTrack
from vision.parallel import IDLE_PROGRESS_S, ProgressFn, Segment, estimate_segments
from vision.video import VideoInfo

__all__ = ["run_processes"]

#: How often a worker reports progress, seconds.
PROGRESS_EVERY_S = 0.1
#: Seconds to wait for a terminated worker before killing it.
STOP_TIMEOUT_S = 3.0


def run_processes(info: VideoInfo, model: str, runs: list[list[Segment]],
                  on_progress: ProgressFn | None) -> list[list[PoseTrack]]:
    """Each run of segments in its own spawned process; progress, cancel and errors as in the threads."""
    ctx = mp.get_context("spawn")
    messages = ctx.Queue()
    cancel = ctx.Event()
    procs = [
        ctx.Process(target=_worker, args=(i, info, model, run, messages, cancel, os.getpid()),
                    name=f"gaitscope-pose-{i}", daemon=True)
        for i, run in enumerate(runs)
    ]
    try:
        for p in procs:
            p.start()
        return _collect(procs, messages, info.frames, on_progress)
    finally:
        cancel.set()
        _stop(procs)
        messages.close()
        messages.cancel_join_thread()


def _collect(procs: list, messages, total: int, on_progress: ProgressFn | None) -> list[list[PoseTrack]]:
    """Read worker messages until every run is back; report progress; raise worker errors."""
    done = [0] * len(procs)
    started: set[int] = set()
    parts: dict[int, list[PoseTrack]] = {}
    reported, last_call = -1, 0.0
    exited_at: dict[int, float] = {}
    while len(parts) < len(procs):
        try:
            msg = messages.get(timeout=0.1)
        except queue_mod.Empty:
            msg = None
        if msg is not None:
            kind, i = msg[0], msg[1]
            started.add(i)
            if kind == "progress":
                done[i] = msg[2]
            elif kind == "result":
                parts[i] = msg[2]
                done[i] = sum(len(t) for t in parts[i])
            elif kind == "error":
                raise _rebuild_error(*msg[2:])
            elif kind == "crash":
                raise RuntimeError(f"pose worker {i} failed:\n{msg[2]}")
        else:
            _check_alive(procs, parts, started, exited_at)
        now = time.monotonic()
        if on_progress is not None and (sum(done) != reported or now - last_call >= IDLE_PROGRESS_S):
            reported, last_call = sum(done), now
            if on_progress(reported, total) is False:
                raise Cancelled("analysis cancelled")
    return [parts[i] for i in range(len(procs))]


def _check_alive(procs: list, parts: dict, started: set, exited_at: dict) -> None:
    """Raise if a worker ended without sending its result (killed, out of memory, could not start)."""
    now = time.monotonic()
    for i, p in enumerate(procs):
        if i in parts or p.exitcode is None:
            continue
        first_seen = exited_at.setdefault(i, now)
        if p.exitcode == 0 and now - first_seen < 2.0:
            continue  # a clean exit: give its last message time to arrive
        if i not in started and p.exitcode > 0:
            raise RuntimeError(
                f"pose worker {i} could not start (exit code {p.exitcode}). When calling gaitscope from a "
                "script of your own, put the call under `if __name__ == '__main__':`."
            )
        how = f"killed by signal {-p.exitcode}" if p.exitcode < 0 else f"exit code {p.exitcode}"
        raise GaitscopeError(
            f"a pose worker process stopped unexpectedly ({how}), perhaps out of memory. "
            "Close other programs, or run with one worker (--workers 1), or use a shorter clip."
        )


def _stop(procs: list) -> None:
    """Terminate workers still running and reap every one (no orphans, no zombies)."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for p in procs:
        if p.pid is None:
            continue  # never started
        p.join(timeout=max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(timeout=1.0)


def _rebuild_error(module: str, name: str, message: str) -> GaitscopeError:
    """The worker's GaitscopeError subclass with its message (falls back to the base class)."""
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        cls = GaitscopeError
    if not (isinstance(cls, type) and issubclass(cls, GaitscopeError)):
        cls = GaitscopeError
    try:
        return cls(message)
    except TypeError:
        return GaitscopeError(message)


def _worker(index: int, info: VideoInfo, model: str, run: list[Segment], messages, cancel, parent_pid: int) -> None:
    """Body of one worker process: its segments' tracks and progress go to ``messages``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    messages.put(("progress", index, 0))  # started
    last = [0.0]

    def progress(done: int, total: int) -> bool:
        if cancel.is_set() or os.getppid() != parent_pid:
            return False
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            messages.put(("progress", index, done))
        return True

    try:
        messages.put(("result", index, estimate_segments(info, model, run, progress)))
    except Cancelled:
        return
    except GaitscopeError as exc:
        messages.put(("error", index, type(exc).__module__, type(exc).__qualname__, str(exc)))
    except Exception:  # noqa: BLE001 - a bug: hand the traceback to the parent rather than dying silently
        messages.put(("crash", index, traceback.format_exc()))
