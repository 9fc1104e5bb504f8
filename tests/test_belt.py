"""Belt line from the stance feet: tilt and height on synthetic runners with known belts."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.belt import BeltLine, estimate_belt, height_above_belt_px
from metrics.clean import clean_track
from metrics.track import PoseTrack
from tests.synthetic import synth_run


@pytest.mark.parametrize("tilt_deg,faces,kw", [
    (0.0, 1, {}),
    (5.0, 1, {}),
    (-8.0, -1, {"noise_px": 2.0}),
    (3.0, 1, {"overground": True, "duration_s": 3.0}),
    (2.0, -1, {"strike": "forefoot", "noise_px": 2.0, "outlier_rate": 0.01}),
])
def test_belt_line_recovered(tilt_deg, faces, kw):
    track, truth = synth_run(tilt_deg=tilt_deg, faces=faces, **kw)
    clean, _ = clean_track(track, faces)
    belt = estimate_belt(clean, faces)
    assert belt.source == "estimated"
    assert belt.tilt_deg == pytest.approx(tilt_deg, abs=0.6)
    # the line the near shoe slides along, within a few pixels at the runner's position
    x = track.size[0] / 2
    true_y = truth["belt_y_at_x0_px"] + np.tan(np.deg2rad(tilt_deg)) * x
    assert belt.y_at(x) == pytest.approx(true_y, abs=0.02 * truth["leg_px"])
    assert belt.residual_px < 0.03 * truth["leg_px"]


def test_stance_feet_sit_on_the_line():
    track, truth = synth_run(tilt_deg=4.0)
    clean, _ = clean_track(track, 1)
    belt = estimate_belt(clean, 1)
    near = truth["near"]
    c = truth["contacts"][3]
    i = c["ic_frame"] + 3  # foot flat
    from metrics.landmarks import Landmark
    heel = clean.xy_px[i, Landmark[f"{c['foot']}_heel"]]
    assert abs(height_above_belt_px(heel, belt)) < 0.02 * truth["leg_px"]
    assert near in ("left", "right")


def test_height_is_measured_along_the_normal():
    belt = BeltLine(30.0, 0.0, 0.0, "user")
    # a point one unit above the line along its normal
    n = np.array([np.sin(np.deg2rad(30.0)), -np.cos(np.deg2rad(30.0))])
    p = np.array([10.0, np.tan(np.deg2rad(30.0)) * 10.0]) + 7.0 * n
    assert height_above_belt_px(p, belt) == pytest.approx(7.0)


def test_no_feet_gives_an_unknown_line():
    empty = PoseTrack.empty(np.arange(20) / 30.0)
    belt = estimate_belt(empty, 1)
    assert np.isnan(belt.y_at_x0_px)
