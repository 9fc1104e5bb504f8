"""Pose in parallel chunks gives the one-process result; progress, cancel, errors, no orphan workers."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from metrics.errors import Cancelled, GaitscopeError, VideoError
from vision import parallel
from vision.parallel import (MIN_SEGMENT_FRAMES, SEGMENT_COUNTS, assign_segments, estimate_track_parallel,
                             plan_segments)
from vision.video import probe


def _spawned_children() -> list[int]:
    """Pids of this process's children started by multiprocessing's spawn (pose workers)."""
    me, out = os.getpid(), []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != me:
                continue
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
        except (OSError, ValueError, IndexError):
            continue
        if b"spawn_main" in cmd:
            out.append(int(d))
    return out


def _no_workers_left(timeout_s: float = 5.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if not _spawned_children():
            return True
        time.sleep(0.1)
    return False


# ----------------------------------------------------------------------------- segment plan (no model)

@pytest.mark.parametrize("n", [0, 1, 119, 120, 239, 240, 360, 2400, 3601])
def test_segments_cover_every_frame_once_in_equal_parts(n):
    segs = plan_segments(n)
    assert len(segs) in SEGMENT_COUNTS
    assert segs[0].start == 0 and segs[-1].stop == n
    assert all(a.stop == b.start for a, b in zip(segs, segs[1:]))  # contiguous: no gap, no overlap
    sizes = [s.frames for s in segs]
    assert max(sizes) - min(sizes) <= 1
    assert len(segs) == 1 or min(sizes) >= MIN_SEGMENT_FRAMES


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 8])
def test_workers_get_contiguous_runs_of_whole_segments(workers):
    segs = plan_segments(2400)
    runs = assign_segments(segs, workers)
    assert [s for run in runs for s in run] == segs
    assert len(runs) == min(workers, len(segs)) and all(runs)
    assert max(map(len, runs)) - min(map(len, runs)) <= 1


# ----------------------------------------------------------------------------- with the model

@pytest.fixture
def workers_even_for_short_clips(monkeypatch):
    """Use worker processes for the short test clip too (it is below their break-even length)."""
    monkeypatch.setattr(parallel, "MIN_PROCESS_FRAMES", 0)

@pytest.fixture(scope="module")
def tracks(short_clip):
    """The short clip's pose track: seamless; segments in this thread, in two threads, in two processes."""
    from vision.pose import estimate_track

    info = probe(short_clip)
    calls: list[tuple[int, int]] = []
    seamless = estimate_track(info, "full")
    one = estimate_track_parallel(info, "full", workers=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parallel, "MIN_PROCESS_FRAMES", 0)  # the short clip is below the processes' break-even
        par = estimate_track_parallel(info, "full", workers=2, on_progress=lambda d, n: calls.append((d, n)))
        procs = estimate_track_parallel(info, "full", workers=2, backend="process")
    return info, seamless, one, par, calls, procs


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["thread", "process"])
def test_two_workers_give_exactly_the_one_process_track(tracks, backend):
    info, _, one, par, _, procs = tracks
    par = par if backend == "thread" else procs
    assert par.meta["pose_workers"] == 2 and one.meta["pose_workers"] == 1
    assert par.meta["pose_segments"] == one.meta["pose_segments"] == [s.start for s in plan_segments(info.frames)]
    assert len(par) == len(one) == info.frames
    np.testing.assert_array_equal(par.t_s, one.t_s)
    np.testing.assert_array_equal(par.xy_px, one.xy_px)  # NaN in the same places, numbers bit for bit
    np.testing.assert_array_equal(par.visibility, one.visibility)
    np.testing.assert_array_equal(par.z, one.z)
    np.testing.assert_array_equal(par.repeated, one.repeated)
    assert {k: v for k, v in par.meta.items() if k != "pose_workers"} == \
        {k: v for k, v in one.meta.items() if k != "pose_workers"}


@pytest.mark.slow
def test_first_segment_is_the_seamless_run_and_later_ones_start_fresh(tracks):
    info, seamless, one, _, _, _ = tracks
    seam = one.meta["pose_segments"][1]
    np.testing.assert_array_equal(one.xy_px[:seam], seamless.xy_px[:seam])
    for key in ("frames_decoded", "model"):
        assert one.meta[key] == seamless.meta[key]
    # after the seam the tracker restarted: same runner, a few pixels apart (tracking noise)
    d = np.linalg.norm(one.xy_px[seam:] - seamless.xy_px[seam:], axis=2)
    assert np.nanmedian(d) < 0.02 * max(info.width, info.height)


@pytest.mark.slow
def test_two_workers_give_the_same_contacts_and_angles(tracks):
    from metrics import analyze_gait

    _, _, one, par, _, _ = tracks
    a, b = analyze_gait(one), analyze_gait(par)
    assert a.strikes, "the short clip should have contacts"
    assert [(s["foot"], s["ic_frame"]) for s in a.strikes] == [(s["foot"], s["ic_frame"]) for s in b.strikes]
    for x, y in zip(a.strikes, b.strikes):
        for key, v in x.items():
            if key.endswith("_deg") and v is not None:
                assert abs(v - y[key]) < 0.5, key


@pytest.mark.slow
def test_progress_counts_up_to_the_clip_length(tracks):
    info, _, _, _, calls, _ = tracks
    done = [d for d, _ in calls]
    assert all(n == info.frames for _, n in calls)
    assert done == sorted(done) and done[-1] == info.frames


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["thread", "process"])
def test_cancel_stops_every_worker(short_clip, workers_even_for_short_clips, backend):
    info = probe(short_clip)
    seen = []

    def cancel_when_started(done, total):
        seen.append(done)
        return done == 0  # False as soon as a frame is done

    with pytest.raises(Cancelled):
        estimate_track_parallel(info, "full", workers=2, on_progress=cancel_when_started, backend=backend)
    assert seen and seen[-1] > 0
    assert _no_workers_left()
    assert not [t for t in threading.enumerate() if t.name.startswith("gaitscope-pose")]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["thread", "process"])
def test_worker_error_surfaces_as_the_same_gaitscope_error(short_clip, tmp_path, workers_even_for_short_clips,
                                                           backend):
    clip = Path(shutil.copy(short_clip, tmp_path / "gone.mp4"))
    info = probe(clip)
    clip.unlink()  # the workers will not find it
    with pytest.raises(VideoError, match="gone.mp4: no such file"):
        estimate_track_parallel(info, "full", workers=2, backend=backend)
    assert _no_workers_left()


@pytest.mark.slow
def test_a_killed_worker_is_reported_not_waited_for(short_clip, workers_even_for_short_clips):
    info = probe(short_clip)
    killed = []

    def kill_one(done, total):
        kids = _spawned_children()
        if done > 0 and kids and not killed:
            os.kill(kids[0], signal.SIGKILL)  # as the kernel's out-of-memory killer would
            killed.append(kids[0])
        return True

    with pytest.raises(GaitscopeError, match="stopped unexpectedly"):
        estimate_track_parallel(info, "full", workers=2, on_progress=kill_one, backend="process")
    assert killed and _no_workers_left()
