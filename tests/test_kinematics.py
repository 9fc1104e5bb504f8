"""Per-strike measures against planted answers (hand-placed poses and the synthetic runner)."""

from __future__ import annotations

import numpy as np
import pytest

from metrics import kinematics as kin
from metrics.landmarks import Landmark, N_LANDMARKS, leg
from metrics.track import PoseTrack
from tests.synthetic import synth_run


def _one_frame(points: dict[str, tuple[float, float]], side: str = "right") -> PoseTrack:
    """A one-frame track with the named points of ``side`` (and both hips) placed by hand."""
    xy = np.full((1, N_LANDMARKS, 2), np.nan)
    vis = np.zeros((1, N_LANDMARKS))
    for name, p in points.items():
        idx = int(Landmark[name]) if name in Landmark.__members__ else leg(side)[name]
        xy[0, idx] = p
        vis[0, idx] = 0.9
    return PoseTrack(xy, vis, np.array([0.0]), (600, 1000))


@pytest.mark.parametrize("faces", [1, -1])
def test_planted_pose_all_measures(faces):
    # hip at x=300; thigh 200 px, shank 200 px; the heel 60 px ahead of the hip
    f = faces
    pts = {
        "left_hip": (300.0, 500.0), "right_hip": (300.0, 500.0),
        "knee": (300.0 + f * 100.0, 500.0 + 173.2),               # thigh 30 deg forward
        "ankle": (300.0 + f * 100.0 + f * 34.7, 673.2 + 197.0),   # shank 10 deg forward
        "heel": (300.0 + f * 60.0 + f * 74.7 - f * 74.7 + f * 0.0, 900.0),
        "foot_index": (300.0 + f * 60.0 + f * 100.0, 900.0 - 17.6),  # 10 deg toes up over 100 px
    }
    pts["heel"] = (300.0 + f * 60.0, 900.0)
    geom = kin.Geometry(faces, 0.0, 905.0, leg_length_px=400.0, px_per_cm=2.0)
    m = kin.strike_measures(_one_frame(pts), "right", 0, 0.0, geom)
    assert m["shin_angle_deg"] == pytest.approx(10.0, abs=0.05)
    assert m["knee_flexion_deg"] == pytest.approx(20.0, abs=0.05)
    assert m["foot_angle_deg"] == pytest.approx(10.0, abs=0.05)
    assert m["strike_pattern"] == "rearfoot"
    assert m["heel_ahead_px"] == pytest.approx(60.0)
    assert m["overstride"] == pytest.approx(60.0 / 400.0)
    assert m["overstride_cm"] == pytest.approx(30.0)


def test_foot_strike_angle_is_relative_to_the_flat_foot():
    pts = {"left_hip": (300.0, 500.0), "right_hip": (300.0, 500.0), "knee": (320.0, 700.0),
           "ankle": (330.0, 880.0), "heel": (320.0, 900.0), "foot_index": (420.0, 897.0)}
    flat = kin.Geometry(1, 0.0, 905.0, 400.0, foot_flat_deg={"left": 0.0, "right": 0.0})
    m0 = kin.strike_measures(_one_frame(pts), "right", 0, 0.0, flat)
    assert m0["strike_pattern"] == "midfoot"   # 1.7 deg toes up
    # the same foot whose landmarks sit 6 deg toes-down when flat: 7.7 deg relative -> still midfoot;
    # with a 9 deg toes-down flat reference it reads rearfoot
    m1 = kin.strike_measures(_one_frame(pts), "right", 0, 0.0,
                             kin.Geometry(1, 0.0, 905.0, 400.0, foot_flat_deg={"right": -9.0}))
    assert m1["foot_angle_deg"] == pytest.approx(m0["foot_angle_deg"])
    assert m1["foot_strike_angle_deg"] == pytest.approx(m0["foot_angle_deg"] + 9.0)
    assert m1["strike_pattern"] == "rearfoot"


def test_unseen_landmarks_give_none_not_nan():
    pts = {"left_hip": (300.0, 500.0), "knee": (320.0, 700.0), "ankle": (330.0, 880.0)}
    m = kin.strike_measures(_one_frame(pts), "right", 0, 0.0, kin.Geometry(1, 0.0, 905.0, 400.0))
    assert m["shin_angle_deg"] is not None
    assert m["foot_angle_deg"] is None and m["strike_pattern"] is None and m["overstride"] is None


@pytest.mark.parametrize("shin", [10.0, -10.0])
@pytest.mark.parametrize("faces", [1, -1])
def test_shin_at_contact_synthetic_both_directions(shin, faces):
    track, truth = synth_run(duration_s=4.0, shin_angle_ic_deg=shin, faces=faces)
    geom = kin.Geometry(faces, 0.0, truth["belt_y_at_x0_px"], kin.leg_length_px(track))
    for c in truth["contacts"]:
        m = kin.strike_measures(track, c["foot"], c["ic_frame"], c["ic_time_s"], geom)
        # read on the contact frame: exactly what the picture shows there, sign included
        assert m["shin_angle_deg"] == pytest.approx(c["shin_angle_at_frame_deg"], abs=1e-6)
        assert np.sign(m["shin_angle_at_ic_time_deg"]) == np.sign(shin)


@pytest.mark.parametrize("shin", [10.0, -10.0])
def test_shin_interpolated_to_contact_instant(shin):
    # The shank angle peaks at contact (forward swing, then backward in stance), so both readings
    # under-read at 30 fps; at 240 fps the interpolated value is the planted one. Near leg only:
    # the synthetic far hip is offset, which changes that leg's angle at contact.
    for fps, tol in ((240.0, 1.5), (30.0, 8.0)):
        track, truth = synth_run(duration_s=3.0, shin_angle_ic_deg=shin, fps=fps)
        geom = kin.Geometry(1, 0.0, truth["belt_y_at_x0_px"], kin.leg_length_px(track))
        near = [c for c in truth["contacts"] if c["near"]]
        got = [kin.strike_measures(track, c["foot"], c["ic_frame"], c["ic_time_s"], geom) for c in near]
        err_time = np.abs([m["shin_angle_at_ic_time_deg"] - shin for m in got])
        err_frame = np.abs([m["shin_angle_deg"] - shin for m in got])
        assert err_time.max() < tol, (fps, err_time)
        assert err_time.mean() <= err_frame.mean() + 1e-9


@pytest.mark.parametrize("tilt", [6.0, -6.0])
def test_tilted_camera_reads_the_same_angles(tilt):
    level, truth0 = synth_run(duration_s=2.0, shin_angle_ic_deg=8.0)
    tilted, truth = synth_run(duration_s=2.0, shin_angle_ic_deg=8.0, tilt_deg=tilt)
    g0 = kin.Geometry(1, 0.0, truth0["belt_y_at_x0_px"], kin.leg_length_px(level))
    g = kin.Geometry(1, tilt, truth["belt_y_at_x0_px"], kin.leg_length_px(tilted))
    g_wrong = kin.Geometry(1, 0.0, truth["belt_y_at_x0_px"], kin.leg_length_px(tilted))
    for c in truth["contacts"]:
        a = kin.strike_measures(level, c["foot"], c["ic_frame"], c["ic_time_s"], g0)
        b = kin.strike_measures(tilted, c["foot"], c["ic_frame"], c["ic_time_s"], g)
        bad = kin.strike_measures(tilted, c["foot"], c["ic_frame"], c["ic_time_s"], g_wrong)
        for k in ("shin_angle_deg", "foot_angle_deg", "knee_flexion_deg", "overstride"):
            assert b[k] == pytest.approx(a[k], abs=1e-6), k
        assert bad["shin_angle_deg"] == pytest.approx(a["shin_angle_deg"] - tilt, abs=1e-6)


def test_leg_length_vertical_oscillation_and_trunk_lean_synthetic():
    track, truth = synth_run(duration_s=4.0, noise_px=0.5, seed=3)
    L = truth["leg_px"]
    assert kin.leg_length_px(track) == pytest.approx(L, rel=0.01)
    geom = kin.Geometry(1, 0.0, truth["belt_y_at_x0_px"], L)
    ics = [c["ic_frame"] for c in truth["contacts"]]
    vo = kin.vertical_oscillation_px(kin.pelvis_height_px(track, geom), ics)
    assert vo / L == pytest.approx(0.07, abs=0.01)  # the model bobs +-0.035 leg lengths
    lean = np.nanmedian(kin.trunk_lean_series_deg(track, geom))
    assert lean == pytest.approx(np.rad2deg(np.arctan(0.10 / 0.62)), abs=0.5)  # shoulders 0.10 L ahead, 0.62 L up


@pytest.mark.parametrize("strike", ["rearfoot", "midfoot", "forefoot"])
def test_strike_pattern_synthetic(strike):
    track, truth = synth_run(duration_s=3.0, strike=strike)
    geom = kin.Geometry(1, 0.0, truth["belt_y_at_x0_px"], kin.leg_length_px(track))
    flat = {s: kin.foot_flat_deg(track, s, [(c["ic_frame"], c["toe_off_frame"]) for c in truth["contacts"]
                                            if c["foot"] == s], geom) for s in ("left", "right")}
    assert all(abs(v) < 1.0 for v in flat.values())  # the synthetic foot is flat at mid-stance
    geom = kin.Geometry(1, 0.0, truth["belt_y_at_x0_px"], kin.leg_length_px(track), foot_flat_deg=flat)
    got = [kin.strike_measures(track, c["foot"], c["ic_frame"], c["ic_time_s"], geom)["strike_pattern"]
           for c in truth["contacts"]]
    assert got.count(strike) >= len(got) - 1, got


def test_find_toe_off_synthetic():
    track, truth = synth_run(duration_s=3.0, noise_px=0.5)
    geom = kin.Geometry(1, 0.0, truth["belt_y_at_x0_px"], kin.leg_length_px(track))
    for c in truth["contacts"]:
        if c["toe_off_frame"] is None:
            continue
        got = kin.find_toe_off(track, c["foot"], c["ic_frame"], geom)
        assert got is not None and abs(got - c["toe_off_frame"]) <= 1


def test_foot_height_is_zero_in_stance_and_positive_in_swing():
    track, truth = synth_run(duration_s=3.0)
    geom = kin.Geometry(1, 0.0, truth["belt_y_at_x0_px"], kin.leg_length_px(track))
    h = kin.foot_height_px(track, "right", geom)
    c = next(c for c in truth["contacts"] if c["foot"] == "right" and c["toe_off_frame"])
    stance = h[c["ic_frame"]:c["toe_off_frame"] + 1]
    assert np.all(np.abs(stance) < 3.0)
    assert np.nanmax(h) > 0.1 * truth["leg_px"]


def _front_view(track: PoseTrack, width_px: float) -> PoseTrack:
    """The same runner seen from behind: no fore-aft motion, left and right apart across the picture."""
    xy = track.xy_px.copy()
    centre = np.nanmedian(xy[:, :, 0])
    xy[:, :, 0] = centre
    for name in Landmark.__members__:
        if name.startswith("left"):
            xy[:, Landmark[name], 0] -= width_px / 2
        elif name.startswith("right"):
            xy[:, Landmark[name], 0] += width_px / 2
    return track.replace(xy_px=xy)


def test_view_check_side_and_front():
    track, truth = synth_run(duration_s=3.0)
    geom = kin.Geometry(1, 0.0, truth["belt_y_at_x0_px"], kin.leg_length_px(track))
    side = kin.view_check(track, geom)
    assert side["side_view"] and side["width_ratio"] < 0.2 and side["foot_travel"] > 0.5
    front = _front_view(track, width_px=0.3 * truth["leg_px"])
    got = kin.view_check(front, kin.Geometry(1, 0.0, truth["belt_y_at_x0_px"], kin.leg_length_px(front)))
    assert not got["side_view"] and got["width_ratio"] > 0.45 and got["foot_travel"] < 0.1


def test_px_per_cm_from_height():
    assert kin.px_per_cm(491.0, 200.0) == pytest.approx(5.0)
    assert kin.px_per_cm(491.0, None) is None
    assert kin.px_per_cm(float("nan"), 180.0) is None


def test_double_support_share_planted():
    t = np.arange(300)
    left = np.where((t // 10) % 2 == 0, 0.0, 50.0)            # on the belt 10 frames, off 10
    right_run = np.where((t // 10) % 2 == 1, 20.0, 70.0)      # the other half, standing 20 px higher
    right_walk = np.where(((t + 3) // 10) % 2 == 1, 20.0, 70.0)  # both down 3 frames of every 20
    assert kin.double_support_share({"left": left, "right": right_run}, 300.0) == 0.0
    assert kin.double_support_share({"left": left, "right": right_walk}, 300.0) == pytest.approx(0.15, abs=0.01)
    assert kin.double_support_share({"left": left, "right": np.full(300, np.nan)}, 300.0) is None
