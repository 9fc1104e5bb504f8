"""clean_track, direction_of_travel, near_side on synthetic runners with planted faults."""

from __future__ import annotations

import numpy as np
import pytest

from metrics._timing import content_times_s, lower_leg_points, step_period_s
from metrics.clean import CleanOptions, clean_track, direction_of_travel, frame_times_s, near_side
from metrics.landmarks import Landmark
from metrics.track import PoseTrack
from tests.synthetic import synth_run

LEGS = lower_leg_points("left") + lower_leg_points("right")


def _leg_err(clean: PoseTrack, truth: dict, frames=None) -> np.ndarray:
    """(frames, leg points) distance of the cleaned legs from the noise-free pose, px."""
    err = np.linalg.norm(clean.xy_px - truth["xy_true"], axis=-1)[:, LEGS]
    return err if frames is None else err[frames]


@pytest.mark.parametrize("faces", [1, -1])
def test_direction_and_near_side(faces):
    track, truth = synth_run(faces=faces, duration_s=2.0)
    assert direction_of_travel(track) == faces
    assert near_side(track) == truth["near"]


def test_near_side_falls_back_to_visibility_without_depth():
    track, truth = synth_run(duration_s=2.0, near="left")
    no_depth = track.replace(z=np.full(track.z.shape, np.nan))
    assert near_side(no_depth) == "left"


def test_clean_keeps_a_clean_track_and_reports_nothing_repaired():
    track, truth = synth_run(duration_s=4.0)
    clean, report = clean_track(track, 1)
    assert report["swapped_frames"] == 0 and report["outlier_points"] == 0 and report["missing_points"] == 0
    assert abs(report["step_s"] - 60 / truth["cadence_spm"]) < 0.01
    err = _leg_err(clean, truth)
    assert np.median(err) < 1.0 and err.max() < 0.03 * truth["leg_px"]
    assert clean.repeated.sum() == 0 and np.array_equal(clean.t_s, track.t_s)


def test_swaps_short_and_long_are_repaired():
    swaps = ((10, 3), (50, 40), (120, 1))
    track, truth = synth_run(duration_s=6.0, swaps=swaps)
    raw_err = _leg_err(track, truth)
    assert raw_err.max() > 0.3 * truth["leg_px"]  # the planted swaps are real
    clean, report = clean_track(track, 1)
    assert report["swapped_frames"] == 44 and report["swap_runs"] == 3
    assert _leg_err(clean, truth).max() < 0.05 * truth["leg_px"]


def test_swap_repair_moves_visibility_and_depth_with_the_points():
    track, truth = synth_run(duration_s=4.0, swaps=((30, 20),))
    clean, _ = clean_track(track, 1)
    near_ankle = Landmark[f"{truth['near']}_ankle"]
    assert np.all(clean.z[30:50, near_ankle] < 0)  # the near leg keeps its near-camera depth


def test_far_foot_merges_are_blanked_and_filled():
    track, truth = synth_run(duration_s=6.0, merge_far_ic_frames=2, noise_px=1.0)
    clean, report = clean_track(track, 1)
    far = [c for c in truth["contacts"] if not c["near"]]
    frames = np.array([c["ic_frame"] + k for c in far for k in (0, 1) if c["ic_frame"] + k < len(track)])
    far_pts = lower_leg_points("left" if truth["near"] == "right" else "right")
    raw = np.linalg.norm(track.xy_px - truth["xy_true"], axis=-1)[np.ix_(frames, far_pts)]
    got = np.linalg.norm(clean.xy_px - truth["xy_true"], axis=-1)[np.ix_(frames, far_pts)]
    assert np.median(raw) > 0.15 * truth["leg_px"]
    assert report["merge_leg_frames"] + report["outlier_points"] > 0
    assert np.median(got) < 0.05 * truth["leg_px"]


def test_outliers_rejected():
    track, truth = synth_run(duration_s=6.0, noise_px=2.0, outlier_rate=0.01, seed=3)
    clean, report = clean_track(track, 1)
    assert report["outlier_points"] > 0
    assert np.percentile(_leg_err(clean, truth), 99.5) < 0.06 * truth["leg_px"]


def test_short_gaps_filled_long_gaps_left_missing():
    short = (20, 21, 22)
    long = tuple(range(80, 110))  # a whole second
    track, truth = synth_run(duration_s=6.0, dropped=short + long)
    clean, report = clean_track(track, 1)
    assert np.isfinite(clean.xy_px[list(short)]).all()
    assert _leg_err(clean, truth, list(short)).max() < 0.08 * truth["leg_px"]
    assert np.isnan(clean.xy_px[95]).all()
    assert report["filled_points"] >= 3 * 33


def test_repeated_frames_are_retimed_and_interpolated():
    track, truth = synth_run(duration_s=6.0, repeat_every=5)
    assert track.repeated.sum() > 30
    clean, report = clean_track(track, 1)
    assert report["repeated_frames"] == int(track.repeated.sum())
    uniq = ~track.repeated
    assert _leg_err(clean, truth, uniq).max() < 0.03 * truth["leg_px"]
    # a repeated frame is not a copy of the one before: it is placed in time
    rep = np.flatnonzero(track.repeated)
    rep = rep[(rep > 0) & (rep < len(track) - 1)]
    moved = np.linalg.norm(clean.xy_px[rep] - clean.xy_px[rep - 1], axis=-1)[:, LEGS]
    assert np.median(moved) > 1.0
    t_eff = frame_times_s(clean)
    assert np.all(np.diff(t_eff) >= 0)


def test_content_times_uniform_for_pulldown():
    t = np.arange(60) / 30.0
    rep = np.arange(60) % 5 == 4
    tc = content_times_s(t, rep)
    new = np.diff(tc[~rep])
    assert np.allclose(new, 1 / 24, atol=1e-3)
    assert np.array_equal(tc[rep], tc[np.flatnonzero(rep) - 1])


def test_variable_frame_rate():
    track, truth = synth_run(duration_s=6.0, vfr_jitter=0.3, seed=2)
    clean, _ = clean_track(track, 1)
    assert np.percentile(_leg_err(clean, truth), 99) < 0.03 * truth["leg_px"]


@pytest.mark.parametrize("slowdown,fps", [(4.0, 120.0), (8.0, 30.0)])
def test_time_constants_follow_the_motion_on_slowed_playback(slowdown, fps):
    _, base = clean_track(synth_run(duration_s=6.0)[0], 1)
    track, truth = synth_run(duration_s=6.0, fps=fps, playback_slowdown=slowdown)
    clean, report = clean_track(track, 1)
    assert report["step_s"] == pytest.approx(slowdown * base["step_s"], rel=0.03)
    assert report["cutoff_hz"] == pytest.approx(base["cutoff_hz"] / slowdown, rel=0.03)
    assert np.percentile(_leg_err(clean, truth), 99) < 0.03 * truth["leg_px"]


def test_fixed_cutoff_in_hz_is_honoured():
    track, _ = synth_run(duration_s=4.0)
    _, report = clean_track(track, 1, CleanOptions(cutoff_hz=4.0))
    assert report["cutoff_hz"] == 4.0


def test_step_period_ignores_leg_swaps():
    track, truth = synth_run(duration_s=6.0, swaps=((20, 60),), cadence_spm=150)
    assert step_period_s(track.xy_px, track.t_s) == pytest.approx(0.4, rel=0.02)


def test_nothing_to_clean_gives_a_warning_not_an_error():
    empty = PoseTrack.empty(np.arange(30) / 30.0)
    clean, report = clean_track(empty, 1)
    assert len(clean) == 30 and report["warnings"]


def test_single_frame_flicker_of_per_frame_detection_is_repaired():
    """Per-frame detection (no tracking) swaps the legs for single frames, often, under jitter
    of about 1.5 % of the leg length; every flicker is relabelled and nothing else is."""
    rng = np.random.default_rng(7)
    flicker = tuple((int(f), 1) for f in rng.choice(np.arange(5, 175, 4), size=12, replace=False))
    track, truth = synth_run(duration_s=6.0, swaps=flicker, noise_px=0.015 * 300)
    assert truth["leg_px"] > 200  # the jitter above is a share of this leg length
    clean, report = clean_track(track, truth["faces"])
    assert report["swapped_frames"] == len(flicker) and report["swap_runs"] == len(flicker)
    err = np.linalg.norm(clean.xy_px - truth["xy_true"], axis=-1)
    assert np.nanmax(err) < 0.15 * truth["leg_px"]
