"""Pose over a whole clip on every core, with a result that does not depend on the core count.

The pose model is the cost floor (about 20 ms a frame for BlazePose full on one core of
this class of machine); decoding is a few milliseconds. One MediaPipe landmarker keeps
one core busy, so the clip is cut into contiguous pieces run side by side.

Why fixed segments
------------------
In VIDEO mode the landmarker follows the runner from frame to frame: each frame's crop
comes from the previous frame's landmarks, so a frame's landmarks depend on the whole
history since tracking started. Starting the tracker at another frame changes the leg
landmarks by several pixels for as long as it runs (measured on the sample: about 7 px
mean on the legs, 3 px on the trunk, still there after 4 s of warm-up). A warm-up
before a seam therefore cannot reproduce a one-process run. Instead the clip is always
cut the same way, whatever the number of workers: :func:`plan_segments` depends only on
the frame count, and every segment starts a fresh tracker exactly as the clip's first
frame does. One worker running the segments one after the other gives the same track,
bit for bit, as several workers running them side by side.

Workers
-------
Each worker decodes only its own contiguous run of segments (``iter_frames`` seeks to the
keyframe before it) and holds one frame at a time, so memory does not grow with the
clip. By default the workers are threads of this process: MediaPipe's inference and the
decoder release the GIL, so two threads keep two cores busy, with no start-up cost
(a spawned process first spends about 2.5 s of CPU importing MediaPipe, SciPy and
gaitscope) and one copy of the libraries in memory. Each worker thread is pinned to its
own core; a worker that has finished its own segments takes over the last segment of a
slower one. Worker processes
(:mod:`vision.parallel_procs`) remain available as ``backend="process"``; ``gaitscope
bench --only pass1,threads,processes`` compares the two.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from metrics.errors import Cancelled
from metrics.track import PoseTrack
from vision.pose import PeopleCounter, estimate_track, model_path, pose_input_side
from vision.video import Frame, VideoInfo, iter_frames, prefetch

__all__ = ["estimate_track_parallel", "estimate_segments", "plan_segments", "assign_segments", "Segment",
           "default_workers", "worker_cpus", "SEGMENT_COUNTS", "MIN_SEGMENT_FRAMES", "MIN_PROCESS_FRAMES"]

#: Possible numbers of segments, largest first: they divide evenly among 1, 2 or 4 workers.
SEGMENT_COUNTS = (4, 2, 1)
#: Each segment has at least this many frames (a clip of fewer than 2x this is not cut).
MIN_SEGMENT_FRAMES = 60
#: Below this many frames worker processes are not worth their start-up (threads start at once).
MIN_PROCESS_FRAMES = 150
#: How often the parent calls ``on_progress`` when nothing new arrived (keeps cancel responsive).
IDLE_PROGRESS_S = 0.5

ProgressFn = Callable[[int, int], bool | None]
FrameFn = Callable[[Frame], None]


@dataclass(frozen=True)
class Segment:
    """Frames ``[start, stop)``, tracked from a fresh start at ``start``."""

    start: int
    stop: int

    @property
    def frames(self) -> int:
        return self.stop - self.start


def default_workers() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def plan_segments(n_frames: int) -> list[Segment]:
    """The fixed cut of a clip of ``n_frames`` frames into equal segments (1, 2 or 4).

    Depends on nothing but the frame count, so every machine cuts a clip alike.

    >>> plan_segments(360)
    [Segment(start=0, stop=90), Segment(start=90, stop=180), Segment(start=180, stop=270), Segment(start=270, stop=360)]
    >>> plan_segments(150)
    [Segment(start=0, stop=75), Segment(start=75, stop=150)]
    >>> plan_segments(100)
    [Segment(start=0, stop=100)]
    """
    n = max(0, int(n_frames))
    k = next((c for c in SEGMENT_COUNTS if n >= c * MIN_SEGMENT_FRAMES), 1)
    bounds = [round(i * n / k) for i in range(k + 1)]
    return [Segment(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def assign_segments(segments: list[Segment], workers: int) -> list[list[Segment]]:
    """Contiguous runs of segments, one run per worker, as even as the segments allow.

    >>> [[s.start for s in run] for run in assign_segments(plan_segments(400), 2)]
    [[0, 100], [200, 300]]
    """
    return [segments[a:b] for a, b in _run_bounds(len(segments), workers)]


def estimate_track_parallel(
    info: VideoInfo,
    model: str = "full",
    workers: int | None = None,
    on_progress: ProgressFn | None = None,
    backend: str = "thread",
    on_frame: FrameFn | None = None,
) -> PoseTrack:
    """Pose track of the whole clip, with up to one worker per core.

    Parameters
    ----------
    info : the probed clip.
    model : ``lite``, ``full`` or ``heavy``.
    workers : workers to use; ``None`` = one per core. With one worker, or a clip
        of a single segment, the segments run in the calling thread.
    on_progress : ``on_progress(done, total)`` with frames done over the whole clip;
        returning ``False`` cancels (workers are stopped, ``Cancelled`` is raised).
        Called from the calling thread only.
    backend : ``"thread"`` (default): worker threads in this process; MediaPipe and
        the decoder release the GIL while they work, and nothing has to start up.
        ``"process"``: spawned worker processes (each imports MediaPipe first).
    on_frame : ``on_frame(frame)`` for every frame the model saw, from the worker that
        decoded it (so possibly from several threads at once, in no particular order);
        not called with ``backend="process"``.

    Returns
    -------
    PoseTrack over the whole clip, identical for any number of workers. ``meta`` holds
    the fields of :func:`vision.pose.estimate_track` (counts summed over segments) plus
    ``pose_segments`` (start frame of every segment) and ``pose_workers``.

    Raises
    ------
    The GaitscopeError subclass a worker raised (same class and message); a
    ``GaitscopeError`` when a worker process dies (e.g. out of memory).
    """
    model_path(model)  # a missing model fails here, before any process starts
    segments = plan_segments(info.frames)
    k = default_workers() if workers is None else max(1, int(workers))
    if backend not in ("thread", "process"):
        raise ValueError(f"backend must be 'thread' or 'process', got {backend!r}")
    runs = assign_segments(segments, 1 if backend == "process" and info.frames < MIN_PROCESS_FRAMES else k)
    if len(runs) == 1:
        parts = [estimate_segments(info, model, segments, on_progress, on_frame)]
    elif backend == "thread":
        parts = [_run_threads(info, model, segments, len(runs), on_progress, on_frame)]
    else:
        from vision.parallel_procs import run_processes

        parts = run_processes(info, model, runs, on_progress)
    return _stitch(info, model, segments, parts, len(runs))


def estimate_segments(info: VideoInfo, model: str, segments: list[Segment],
                      on_progress: ProgressFn | None = None, on_frame: FrameFn | None = None) -> list[PoseTrack]:
    """Pose tracks of contiguous ``segments``, each from a fresh tracker; one decoder and one
    people counter for them all.

    ``on_progress(done, total)`` counts frames over all the segments given.
    """
    if not segments:
        return []
    total = sum(s.frames for s in segments)
    frames = _Frames(prefetch(iter_frames(info, segments[0].start, segments[-1].stop, max_side=pose_input_side(info))))
    out = []
    counter = PeopleCounter()
    try:
        offset = 0
        for seg in segments:
            def progress(done: int, _n: int, base: int = offset) -> bool | None:
                return on_progress(base + done, total) if on_progress is not None else None

            out.append(estimate_track(info, model, seg.start, seg.stop, on_progress=progress,
                                      frames=frames.until(seg.stop), counter=counter, on_frame=on_frame))
            offset += seg.frames
    finally:
        frames.close()
        counter.close()
    return out


class _Frames:
    """One decoded stream handed out segment by segment (the frame past a segment is kept)."""

    def __init__(self, frames: Iterator[Frame]):
        self._it, self._pending = frames, None

    def until(self, stop: int) -> Iterator[Frame]:
        while True:
            frame, self._pending = (self._pending, None) if self._pending is not None else (next(self._it, None), None)
            if frame is None:
                return
            if frame.index >= stop:
                self._pending = frame
                return
            yield frame

    def close(self) -> None:
        close = getattr(self._it, "close", None)
        if close is not None:
            close()


def _stitch(info: VideoInfo, model: str, segments: list[Segment], parts: list[list[PoseTrack]],
            workers: int) -> PoseTrack:
    tracks = [t for part in parts for t in part]
    meta: dict = {}
    for t in tracks:  # counts add up over segments; other fields are the same in every segment
        for key, value in t.meta.items():
            if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and key in meta:
                meta[key] = int(meta[key]) + int(value)
            else:
                meta.setdefault(key, value)
    meta.update(model=model, pose_segments=[s.start for s in segments], pose_workers=workers)
    return PoseTrack(
        np.concatenate([t.xy_px for t in tracks]), np.concatenate([t.visibility for t in tracks]),
        info.times_s(), (info.width, info.height), meta,
        z=np.concatenate([t.z for t in tracks]), repeated=np.concatenate([t.repeated for t in tracks]),
    )


# ----------------------------------------------------------------------------- worker threads

class _Claims:
    """Which segment a worker thread runs next: its own contiguous run first (one decoder goes
    on from segment to segment), then the last segment left in the longest other run, so that
    a worker slowed down by other programs on its core is helped out.
    """

    def __init__(self, runs: list[list[int]]):
        self._lock = threading.Lock()
        self._todo = [list(r) for r in runs]

    def next(self, worker: int) -> int | None:
        with self._lock:
            if self._todo[worker]:
                return self._todo[worker].pop(0)
            donor = max(self._todo, key=len)
            return donor.pop() if donor else None


def _thread_worker(worker: int, cpu: int | None, info: VideoInfo, model: str, segments: list[Segment],
                   claims: _Claims, tracks: list, done: list, stop: threading.Event,
                   on_frame: FrameFn | None) -> None:
    """Run claimed segments until none is left; ``tracks[k]`` receives segment ``k``'s track."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})  # this thread, and the MediaPipe and decoder threads it starts
    stream, last_stop = None, None
    counter = PeopleCounter()
    try:
        while not stop.is_set() and (k := claims.next(worker)) is not None:
            seg = segments[k]
            if stream is None or last_stop != seg.start:
                if stream is not None:
                    stream.close()
                # decoding starts now, in its own thread on this core, so that the seek's pre-roll
                # runs while the landmarker is being created
                stream = _Frames(prefetch(iter_frames(info, seg.start, None, max_side=pose_input_side(info),
                                                      threads=cpu is None)))

            def progress(d: int, _n: int, k: int = k) -> bool:
                done[k] = d
                return not stop.is_set()

            tracks[k] = estimate_track(info, model, seg.start, seg.stop, on_progress=progress,
                                       frames=stream.until(seg.stop), counter=counter, on_frame=on_frame)
            last_stop = seg.stop
    finally:
        counter.close()
        if stream is not None:
            stream.close()


def worker_cpus(n: int) -> list[int | None]:
    """A core for each of ``n`` worker threads, or no pinning when there are fewer cores."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # no affinity control here (not Linux)
        return [None] * n
    return cpus[:n] if len(cpus) >= n else [None] * n


def _run_threads(info: VideoInfo, model: str, segments: list[Segment], workers: int,
                 on_progress: ProgressFn | None, on_frame: FrameFn | None = None) -> list[PoseTrack]:
    """Segments on ``workers`` threads, one per core; progress and cancel from the calling thread.

    Each worker thread is pinned to its own core, and so are the MediaPipe graph and decoder
    threads it starts: a landmarker then keeps its core's cache, which on this machine makes
    two workers about 15 % faster than letting the threads wander between cores.
    """
    runs = [list(range(a, b)) for a, b in _run_bounds(len(segments), workers)]
    claims = _Claims(runs)
    tracks: list = [None] * len(segments)
    done = [0] * len(segments)
    stop = threading.Event()
    cpus = worker_cpus(len(runs))
    with ThreadPoolExecutor(len(runs), thread_name_prefix="gaitscope-pose") as pool:
        futures = [pool.submit(_thread_worker, w, cpus[w], info, model, segments, claims, tracks, done, stop,
                               on_frame)
                   for w in range(len(runs))]
        try:
            reported, last_call = -1, 0.0
            while True:
                finished, pending = wait(futures, timeout=0.1, return_when=FIRST_EXCEPTION)
                for f in finished:
                    if f.exception() is not None:
                        raise f.exception()
                if not pending:
                    break
                now = time.monotonic()
                if on_progress is not None and (sum(done) != reported or now - last_call >= IDLE_PROGRESS_S):
                    reported, last_call = sum(done), now
                    if on_progress(reported, info.frames) is False:
                        raise Cancelled("analysis cancelled")
        finally:
            stop.set()  # the other threads stop at their next frame
    if on_progress is not None:
        on_progress(info.frames, info.frames)
    return tracks


def _run_bounds(n: int, workers: int) -> list[tuple[int, int]]:
    w = max(1, min(int(workers), n))
    cuts = [round(i * n / w) for i in range(w + 1)]
    return list(zip(cuts[:-1], cuts[1:]))
