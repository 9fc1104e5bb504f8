"""detect_contacts on synthetic runners with known contacts (and one real clip, slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metrics.belt import estimate_belt
from metrics.clean import clean_track, direction_of_travel, near_side
from metrics.events import Contact, detect_contacts
from metrics.track import PoseTrack
from tests.synthetic import synth_run


def _run(**kw):
    track, truth = synth_run(**kw)
    faces = direction_of_travel(track)
    clean, _ = clean_track(track, faces)
    belt = estimate_belt(clean, faces)
    return track, truth, detect_contacts(clean, faces, belt, near_side(track))


def _match(truth: dict, found: list[Contact], tol_s: float):
    """Pairs (truth contact, detected contact) of the same foot within ``tol_s``; unmatched counts."""
    pairs, used = [], set()
    for c in truth["contacts"]:
        cand = [d for d in found if d.foot == c["foot"] and id(d) not in used
                and abs(d.ic_time_s - c["ic_time_s"]) < tol_s]
        if cand:
            d = min(cand, key=lambda d: abs(d.ic_time_s - c["ic_time_s"]))
            used.add(id(d))
            pairs.append((c, d))
    return pairs, len(truth["contacts"]) - len(pairs), len(found) - len(pairs)


def _check(truth, found, *, exact_share=0.8, max_time_err_frames=1.0, dt=1 / 30):
    step = 60.0 / truth["cadence_spm"]
    # a contact in the clip's last two frames cannot be told from one just after it
    last = len(truth["xy_true"]) - 3
    truth = {**truth, "contacts": [c for c in truth["contacts"] if c["ic_frame"] <= last]}
    found = [d for d in found if d.ic_frame <= last]
    pairs, missed, extra = _match(truth, found, 0.4 * step)
    assert missed == 0 and extra == 0, (missed, extra)
    err = np.array([d.ic_frame - c["ic_frame"] for c, d in pairs])
    assert np.all(np.abs(err) <= 1)
    assert np.mean(err == 0) >= exact_share
    t_err = np.array([d.ic_time_s - c["ic_time_s"] for c, d in pairs])
    assert np.max(np.abs(t_err)) <= max_time_err_frames * dt
    assert all(d.near == c["near"] for c, d in pairs)
    assert [c.ic_frame for c in found] == sorted(c.ic_frame for c in found)
    return pairs


@pytest.mark.parametrize("strike", ["rearfoot", "midfoot", "forefoot"])
@pytest.mark.parametrize("faces", [1, -1])
def test_contacts_for_each_strike_and_direction(strike, faces):
    _, truth, found = _run(strike=strike, faces=faces, noise_px=1.0)
    _check(truth, found)


def test_tilted_camera():
    _, truth, found = _run(tilt_deg=7.0, noise_px=1.0)
    _check(truth, found)


def test_leg_swaps_and_far_foot_merges():
    _, truth, found = _run(swaps=((10, 3), (50, 40), (120, 1)), merge_far_ic_frames=2, noise_px=1.0)
    _check(truth, found, exact_share=0.7)


def test_dropped_frames():
    _, truth, found = _run(dropped=(14, 15, 60, 61, 62, 100))
    _check(truth, found)


def test_repeated_frames_never_hold_a_contact():
    track, truth, found = _run(repeat_every=5)
    _check(truth, found, max_time_err_frames=1.5)
    assert not any(track.repeated[c.ic_frame] for c in found)


def test_variable_frame_rate():
    _, truth, found = _run(vfr_jitter=0.3, seed=4)
    _check(truth, found)


@pytest.mark.parametrize("slowdown,fps", [(4.0, 120.0), (8.0, 30.0)])
def test_slowed_playback_without_known_capture_rate(slowdown, fps):
    _, truth, found = _run(playback_slowdown=slowdown, fps=fps)
    # one frame of the file is 1/fps of file time
    _check(truth, found, exact_share=0.7, dt=1 / fps)


@pytest.mark.parametrize("cadence,fps", [(150.0, 60.0), (185.0, 25.0)])
def test_other_cadences_and_frame_rates(cadence, fps):
    _, truth, found = _run(cadence_spm=cadence, fps=fps, noise_px=1.0)
    _check(truth, found, dt=1 / fps)


def test_overground_static_camera():
    _, truth, found = _run(overground=True, duration_s=2.5)
    _check(truth, found)


def test_toe_off_within_two_frames():
    _, truth, found = _run(noise_px=1.0)
    pairs, _, _ = _match(truth, found, 0.15)
    errs = [d.toe_off_frame - c["toe_off_frame"] for c, d in pairs
            if c["toe_off_frame"] is not None and d.toe_off_frame is not None]
    assert len(errs) >= len(pairs) - 2
    assert np.all(np.abs(errs) <= 2) and abs(np.mean(errs)) <= 1.0


def test_cadence_from_contacts():
    _, truth, found = _run(cadence_spm=164.0, duration_s=8.0)
    t = np.array([c.ic_time_s for c in found])
    assert 60.0 / np.median(np.diff(t)) == pytest.approx(164.0, rel=0.02)


def test_standing_still_gives_no_contacts():
    track, _ = synth_run(duration_s=3.0)
    still = track.replace(xy_px=np.repeat(track.xy_px[:1], len(track), axis=0))
    clean, _ = clean_track(still, 1)
    belt = estimate_belt(clean, 1)
    assert detect_contacts(clean, 1, belt, "right") == []


def test_near_defaults_to_the_tracks_near_side():
    track, truth = synth_run(duration_s=3.0)
    clean, _ = clean_track(track, 1)
    found = detect_contacts(clean, 1, estimate_belt(clean, 1))
    assert {c.foot for c in found if c.near} == {truth["near"]}


@pytest.mark.slow
def test_real_clip_contacts_match_labels(shared, tmp_path):
    """Overstride_12 through the pipeline (pose cached): every labelled contact within one frame."""
    from ui.evaluate import default_out_dir
    from ui.pipeline import AnalyzeOptions, analyze

    name = "hongwei_overstride_augment_Overstride_12_flipped"
    label = json.loads((shared / "labels" / f"{name}.json").read_text())
    res = analyze(shared / "clips" / f"{name}.mp4", default_out_dir("full") / name, AnalyzeOptions())
    clean = res.gait.track_clean
    faces = direction_of_travel(res.track_raw)
    found = detect_contacts(clean, faces, estimate_belt(clean, faces), near_side(res.track_raw))
    w0, w1 = label["window"]
    got = [c for c in found if w0 - 3 <= c.ic_frame <= w1 + 3]
    for s in label["strikes"]:
        best = min(got, key=lambda c: abs(c.ic_frame - s["ic_frame"]))
        assert abs(best.ic_frame - s["ic_frame"]) <= 1
        assert best.near == (s["foot"] == "near")
    assert len([c for c in got if w0 <= c.ic_frame <= w1]) == len(label["strikes"])
    assert isinstance(res.track_raw, PoseTrack)


def test_without_fore_aft_swing_heights_still_give_contacts():
    """Seen from the front the feet do not swing across the picture; contacts come from heights."""
    from metrics.landmarks import Landmark

    track, truth = synth_run(duration_s=6.0)
    xy = track.xy_px.copy()
    mid = np.nanmean(xy[:, [Landmark.left_hip, Landmark.right_hip], 0])
    for lm in Landmark:
        side = -1 if lm.name.startswith("left") else (1 if lm.name.startswith("right") else 0)
        xy[:, lm, 0] = mid + 25 * side + 0.05 * (xy[:, lm, 0] - mid)
    front = track.replace(xy_px=xy)
    clean, _ = clean_track(front, 1)
    found = detect_contacts(clean, 1, estimate_belt(clean, 1), "right")
    pairs, missed, extra = _match(truth, found, 0.1)
    assert missed <= 1 and extra <= 1
    assert all(abs(d.ic_frame - c["ic_frame"]) <= 2 for c, d in pairs)
    assert all(d.confidence < 0.5 for d in found)


def test_toe_off_is_the_crossing_the_clear_lift_follows():
    """A toe hovering at the edge of its belt band (landmark noise in late stance) crosses it and drops back before
    the real lift; toe-off is the crossing that the clear lift follows, not the first."""
    from metrics.events import EventOptions, _Foot, _toe_off

    t = np.arange(30) / 30.0
    toe = np.zeros(30)
    toe[6] = 5.5               # a one-frame blip just above the 5 px band in late stance
    toe[10:] = np.linspace(6.0, 80.0, 20)  # the real lift: above the band from frame 10, far above it soon after
    foot = _Foot(fwd={}, vel={"foot_index": np.full(30, np.nan)}, low=toe, toe=toe)
    last_on_belt, t_off = _toe_off(foot, t, t_ic=0.0, v_st=float("nan"), step_s=0.35, toe_band=5.0,
                                   opts=EventOptions())
    assert last_on_belt == 9 and 9 / 30 < t_off <= 10 / 30
    toe[6] = 0.0               # without the blip the same crossing is found
    assert _toe_off(foot, t, 0.0, float("nan"), 0.35, 5.0, EventOptions())[0] == 9
