"""The filming checks (brightness, camera motion) measured from the pose pass's own frames."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.hostile_clips import dark_clip, panning_clip
from vision.pose import pose_input_side
from vision.scene import SceneSampler, sample_indices, scene_check
from vision.video import iter_frames, probe


def _sampled_in_pass(info):
    """What the pose pass hands the sampler: every frame of the clip, at the pose input size."""
    sampler = SceneSampler(info)
    for frame in iter_frames(info, max_side=pose_input_side(info)):
        sampler.add(frame)
    return sampler


@pytest.mark.parametrize("make", ["sample", "panning", "dim"])
def test_samples_from_the_pose_pass_measure_what_a_separate_decode_measures(make, sample, tmp_path):
    clip = {"sample": lambda: sample,
            "panning": lambda: panning_clip(tmp_path / "pan.mp4"),  # pans for its whole 2 s
            "dim": lambda: dark_clip(tmp_path / "dim.mp4", seconds=4.0, gain=0.3)}[make]()
    info = probe(clip)
    from_pass = _sampled_in_pass(info).check()
    decoded = scene_check(info)
    assert from_pass is not None
    assert from_pass.samples == decoded.samples >= 15  # pairs of frames compared
    assert abs(from_pass.mean_luma - decoded.mean_luma) < 1.5
    assert abs(from_pass.pan_share_per_s - decoded.pan_share_per_s) < 0.01
    assert (from_pass.dark, from_pass.camera_moves) == (decoded.dark, decoded.camera_moves)
    expected = {"sample": (False, False), "panning": (False, True), "dim": (True, False)}[make]
    assert (decoded.dark, decoded.camera_moves) == expected


def test_sampler_wants_frames_a_tenth_of_a_second_apart_from_the_middle_of_the_clip(sample):
    info = probe(sample)
    idx = sample_indices(info)
    t = info.times_s()[idx]
    assert 28 <= len(idx) <= 31  # 3 s at 10 a second
    assert np.all(np.diff(t) >= 0.1 - 1e-9)
    assert abs(0.5 * (t[0] + t[-1]) - 0.5 * info.duration_s) < 0.1


def test_a_pass_that_missed_samples_gives_no_answer_so_the_pipeline_decodes_them(sample):
    info = probe(sample)
    sampler = SceneSampler(info)
    idx = sample_indices(info)
    for frame in iter_frames(info, idx[0], idx[len(idx) // 2]):
        sampler.add(frame)
    assert sampler.check() is None


def test_mediapipe_is_imported_without_matplotlib_and_its_drawing_helpers_still_work():
    import subprocess

    code = ("import sys; from vision.mediapipe_import import mediapipe; mp = mediapipe(); "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'; "
            "from mediapipe.tasks.python.vision import drawing_utils; "
            "spec = drawing_utils.DrawingSpec(color=(1, 2, 3)); "
            "assert 'matplotlib.pyplot' in sys.modules and spec.color == (1, 2, 3)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_analyze_takes_the_scene_from_the_pose_pass_without_decoding_again(workers, short_clip, tmp_path,
                                                                           monkeypatch):
    from ui.pipeline import AnalyzeOptions, analyze

    def no_second_decode(*_a, **_k):
        raise AssertionError("the scene check decoded the clip a second time")

    monkeypatch.setattr("ui.pipeline.scene_check", no_second_decode)
    res = analyze(short_clip, tmp_path, AnalyzeOptions(model="lite", workers=workers, use_cache=False))
    scene = res.track_raw.meta["scene"]
    assert scene["samples"] >= 20 and not scene["dark"] and not scene["camera_moves"]
    assert abs(scene["mean_luma"] - scene_check(probe(short_clip)).mean_luma) < 1.5
