"""The stages ``gaitscope bench`` times, each run in a fresh process with its memory watched.

Every stage is a function ``stage(**kwargs) -> dict`` with at least ``frames`` (frames
handled) and ``wall_s`` (the timed part). :func:`measure` runs one in a spawned
child process while this process samples the resident memory of the child and all
its descendants (pose workers included) from ``/proc``; the child adds its CPU time
(its own plus its reaped children's), so ``cpu_s / wall_s`` says how many cores the
stage kept busy.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["StageResult", "measure", "STAGES", "naive_loop"]

#: Memory sampling interval, seconds: reading a few /proc files, about 0.1 ms each time.
_SAMPLE_S = 0.05
#: How often the watcher looks for new processes below the stage (a scan of all of /proc,
#: about 1.6 ms): rarely, so that the bench does not take CPU from a stage that uses every core.
_RESCAN_S = 1.0


@dataclass(frozen=True)
class StageResult:
    name: str
    frames: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    extra: dict = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def cores_busy(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else float("nan")


# ----------------------------------------------------------------------------- stages

def _cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class _Timer:
    """Wall and CPU time of a ``with`` block."""

    def __enter__(self) -> "_Timer":
        self.c0, self.t0 = _cpu_s(), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.wall_s, self.cpu_s = time.perf_counter() - self.t0, _cpu_s() - self.c0

    def result(self, frames: int, **extra) -> dict:
        return {"frames": int(frames), "wall_s": self.wall_s, "cpu_s": self.cpu_s, **extra}

def stage_decode(video: str, **_) -> dict:
    """Decode every frame to upright RGB at the pose input size, as the pipeline does."""
    from vision.pose import pose_input_side
    from vision.video import iter_frames, probe

    info = probe(video)
    with _Timer() as t:
        n = sum(1 for _ in iter_frames(info, max_side=pose_input_side(info)))
    return t.result(n)


def stage_pose(video: str, model: str, pose_frames: int, pin: bool = True, **_) -> dict:
    """The model alone on frames decoded beforehand, pinned to one core.

    Model loading and the first frame (graph warm-up) are not timed.
    """
    from vision.pose import PoseEstimator, pose_input_side
    from vision.video import iter_frames, probe

    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # before MediaPipe starts its threads
    info = probe(video)
    frames = [f for _, f in zip(range(pose_frames), iter_frames(info, max_side=pose_input_side(info)))]
    with PoseEstimator(model) as est:
        est.estimate(frames[0].rgb, round(frames[0].t_s * 1000))
        with _Timer() as t:
            for f in frames[1:]:
                est.estimate(f.rgb, round(f.t_s * 1000))
    return t.result(len(frames) - 1)


def naive_loop(video: str, model_file: str) -> int:
    """The loop typical open-source running analysers run: OpenCV reads, MediaPipe estimates.

    One process, one frame after the other, full-size frames, the same landmarker
    settings as gaitscope's. Returns the number of frames done.
    """
    import cv2
    import mediapipe as mp_
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode

    options = PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=model_file), running_mode=RunningMode.VIDEO,
        num_poses=1, min_pose_detection_confidence=0.5, min_pose_presence_confidence=0.5,
        min_tracking_confidence=0.5,
    )
    landmarker = PoseLandmarker.create_from_options(options)
    cap = cv2.VideoCapture(video)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    n = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        image = mp_.Image(image_format=mp_.ImageFormat.SRGB, data=rgb)
        result = landmarker.detect_for_video(image, int(n * 1000 / fps))
        _ = [(p.x, p.y, p.visibility) for lms in result.pose_landmarks for p in lms]
        n += 1
    cap.release()
    landmarker.close()
    return n


def stage_naive(video: str, model: str, **_) -> dict:
    """:func:`naive_loop`, timed from model loading to the last frame.

    MediaPipe is imported before the timer (about 0.3-0.45 s, most of it matplotlib, which
    ``import mediapipe`` pulls in): the reference is the loop's speed, not its imports.
    """
    import mediapipe  # noqa: F401  (the loop's own import is then free)

    from vision.pose import model_path

    with _Timer() as t:
        n = naive_loop(video, str(model_path(model)))
    return t.result(n)


def _naive_on_core(video: str, model_file: str, cpu: int | None, barrier, results) -> None:
    """One of :func:`stage_naive_pair`'s loops: pinned to ``cpu``, timed from the common start."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    import mediapipe  # noqa: F401  (imported before the start, as in stage_naive)

    barrier.wait()
    with _Timer() as t:
        n = naive_loop(video, model_file)
    results.put((n, t.wall_s, t.cpu_s))


def stage_naive_pair(video: str, model: str, **_) -> dict:
    """One naive loop per core, side by side, each in its own process on its own core.

    Every core does the naive loop's exact work with nothing shared and nothing to wait
    for, so the combined frames/s is the most that any split of that work over the cores
    can reach on this machine (cores share caches and memory bandwidth, so it is less
    than cores x one loop). The loops start together; wall time runs to the last one's end.
    """
    from vision.parallel import default_workers, worker_cpus
    from vision.pose import model_path

    n = default_workers()
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(n + 1), ctx.Queue()
    procs = [ctx.Process(target=_naive_on_core, args=(video, str(model_path(model)), cpu, barrier, results))
             for cpu in worker_cpus(n)]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    t0 = time.perf_counter()
    runs = [results.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    return {"frames": sum(r[0] for r in runs), "wall_s": wall, "cpu_s": sum(r[2] for r in runs), "loops": n}


def stage_analyze(video: str, model: str, out: str, workers: int | None = None, **_) -> dict:
    """``analyze`` end to end with no pose cache: probe, pose, measures, files written."""
    from ui.pipeline import AnalyzeOptions, analyze

    with _Timer() as t:
        res = analyze(video, out, AnalyzeOptions(model=model, use_cache=False, workers=workers))
    return t.result(res.info.frames, pose_workers=res.track_raw.meta.get("pose_workers"))


def stage_pose_pass(video: str, model: str, workers: int | None = None, backend: str = "thread", **_) -> dict:
    """The whole pose pass of ``analyze`` (decode, model, stitching), timed from the call."""
    from vision.parallel import estimate_track_parallel
    from vision.video import probe

    info = probe(video)
    with _Timer() as t:
        track = estimate_track_parallel(info, model, workers=workers, backend=backend)
    return t.result(len(track), pose_workers=track.meta.get("pose_workers"))


def stage_export(video: str, model: str, out: str, **_) -> dict:
    """The annotated clip (H.264) from an analysis already in ``out`` (its pose cache is reused)."""
    from ui.export import ExportSource, export_annotated_clip
    from ui.pipeline import AnalyzeOptions, analyze

    res = analyze(video, out, AnalyzeOptions(model=model, use_cache=True))
    src = ExportSource.from_analysis(res)
    with _Timer() as t:
        export_annotated_clip(src, Path(out) / "annotated.mp4")
    return t.result(res.info.frames, clip_s=res.info.duration_s)


def stage_app(video: str, model: str, out: str, workers: int | None = None, **_) -> dict:
    """What the app does on 'Analyse': timed to the first results (``analyze``: the page then
    shows the strikes and summary); ``player_ready_s`` adds the player's proxy written after it."""
    from ui.app_proxy import make_proxy
    from ui.pipeline import AnalyzeOptions, analyze

    with _Timer() as t:
        res = analyze(video, out, AnalyzeOptions(model=model, use_cache=False, workers=workers))
    t0 = time.perf_counter()
    make_proxy(res.info, Path(out))
    return t.result(res.info.frames, player_ready_s=t.wall_s + time.perf_counter() - t0)


STAGES = {"decode": stage_decode, "pose": stage_pose, "naive": stage_naive, "naive2": stage_naive_pair,
          "analyze": stage_analyze, "analyze1": stage_analyze, "export": stage_export, "app": stage_app, "pass1": stage_pose_pass,
          "threads": stage_pose_pass, "processes": stage_pose_pass}


# ----------------------------------------------------------------------------- measuring

def _child(name: str, kwargs: dict, conn) -> None:
    try:
        out = STAGES[name](**kwargs)
        # the kernel's own peak of this process (exact; the watcher's samples may miss a short peak)
        out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        conn.send(("ok", out))
    except Exception as exc:  # noqa: BLE001 - reported to the parent as a failed row
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(root: int) -> list[int]:
    """``root`` and every process below it (read from /proc)."""
    parent_of = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent_of[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(c for c, pp in parent_of.items() if pp == p)
    return out


def _watch_memory(pid: int, stop: threading.Event, peak: list) -> None:
    pids, scanned = [pid], -float("inf")
    while not stop.is_set():
        if time.monotonic() - scanned >= _RESCAN_S:
            pids, scanned = _descendants(pid), time.monotonic()
        peak[0] = max(peak[0], sum(_rss_kb(p) for p in pids))
        stop.wait(_SAMPLE_S)


def measure(name: str, **kwargs) -> StageResult:
    """Run stage ``name`` in a fresh process; time, CPU and peak resident memory of its process tree.

    A stage that fails gives a result with ``frames == 0`` and the message in ``extra['error']``.
    """
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(name, kwargs, send), name=f"gaitscope-bench-{name}")
    proc.start()
    send.close()
    peak = [0]
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_memory, args=(proc.pid, stop, peak), daemon=True)
    if Path("/proc").is_dir():
        watcher.start()
    try:
        status, out = recv.recv()
    except EOFError:
        status, out = "error", f"the {name} process died (exit code {proc.exitcode})"
    finally:
        stop.set()
        proc.join()
    if watcher.is_alive():
        watcher.join()
    if status != "ok":
        return StageResult(name, 0, float("nan"), float("nan"), peak[0] / 1024, {"error": out})
    peak_kb = max(peak[0], int(out.get("maxrss_kb", 0)))
    extra = {k: v for k, v in out.items() if k not in ("frames", "wall_s", "cpu_s", "maxrss_kb")}
    return StageResult(name, int(out["frames"]), float(out["wall_s"]), float(out["cpu_s"]), peak_kb / 1024, extra)


def median(values) -> float:
    v = np.asarray([x for x in values if x == x], float)  # drop NaN
    return float(np.median(v)) if v.size else float("nan")
