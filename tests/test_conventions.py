"""One test per sign in metrics/conventions.py: each is stated once and checked both ways."""

from __future__ import annotations

import numpy as np
import pytest

from metrics import conventions as cv

KNEE = np.array([300.0, 500.0])
DOWN = 100.0  # shank length in px, pointing down the picture


def _ankle(angle_deg: float, faces: int) -> np.ndarray:
    """An ankle ``angle_deg`` ahead of vertical below KNEE for a runner facing ``faces``."""
    a = np.deg2rad(angle_deg)
    return KNEE + DOWN * np.array([faces * np.sin(a), np.cos(a)])


@pytest.mark.parametrize("faces", [cv.FACES_RIGHT, cv.FACES_LEFT])
@pytest.mark.parametrize("angle", [10.0, -10.0, 0.0, 25.0])
def test_shin_positive_when_ankle_ahead_in_direction_of_travel(faces, angle):
    assert cv.shin_angle_deg(KNEE, _ankle(angle, faces), faces) == pytest.approx(angle, abs=1e-9)


def test_shin_sign_flips_with_direction_of_travel():
    ankle_right_of_knee = KNEE + [17.6, 98.5]
    assert cv.shin_angle_deg(KNEE, ankle_right_of_knee, cv.FACES_RIGHT) > 0
    assert cv.shin_angle_deg(KNEE, ankle_right_of_knee, cv.FACES_LEFT) < 0


@pytest.mark.parametrize("tilt", [5.0, -5.0])
def test_tilted_camera_shin_measured_against_belt_normal(tilt):
    # a vertical shank in the world, filmed by a camera rolled so the belt runs at `tilt`:
    # the picture rotates by `tilt` clockwise, so the shank does too
    a = np.deg2rad(tilt)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])  # clockwise on screen (y down)
    ankle = KNEE + rot @ np.array([0.0, DOWN])
    assert cv.shin_angle_deg(KNEE, ankle, cv.FACES_RIGHT, tilt) == pytest.approx(0.0, abs=1e-9)
    # against the image vertical it would read the tilt (ankle moved left for a + tilt)
    assert cv.shin_angle_deg(KNEE, ankle, cv.FACES_RIGHT, 0.0) == pytest.approx(-tilt, abs=1e-9)


def test_belt_tilt_positive_when_line_runs_down_to_the_right():
    # a belt line from (0, 500) to (100, 510) is tilted + (downward to the right)
    v = cv.rotate_to_belt(np.array([100.0, 10.0]), np.rad2deg(np.arctan2(10, 100)))
    assert v[0] > 0 and v[1] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("faces", [1, -1])
def test_knee_flexion_zero_straight_positive_flexed_negative_hyperextended(faces):
    hip, knee = np.array([300.0, 300.0]), np.array([300.0 + faces * 20.0, 400.0])
    straight = knee + (knee - hip)
    assert cv.knee_flexion_deg(hip, knee, straight, faces) == pytest.approx(0.0, abs=1e-9)
    behind = knee + np.array([-faces * 40.0, 90.0])   # ankle behind the thigh's line: flexed
    ahead = knee + np.array([faces * 40.0, 90.0])     # ankle in front of the thigh's line: hyperextended
    assert cv.knee_flexion_deg(hip, knee, behind, faces) > 20
    assert cv.knee_flexion_deg(hip, knee, ahead, faces) < 0


@pytest.mark.parametrize("faces", [1, -1])
def test_foot_angle_positive_toes_up(faces):
    heel = np.array([300.0, 900.0])
    toes_up = heel + np.array([faces * 100.0, -20.0])
    toes_down = heel + np.array([faces * 100.0, 20.0])
    assert cv.foot_angle_deg(heel, toes_up, faces) == pytest.approx(np.rad2deg(np.arctan(0.2)))
    assert cv.foot_angle_deg(heel, toes_down, faces) == pytest.approx(-np.rad2deg(np.arctan(0.2)))


def test_foot_angle_relative_to_tilted_belt():
    tilt = 4.0
    heel = np.array([300.0, 900.0])
    flat = heel + 100.0 * np.array([np.cos(np.deg2rad(tilt)), np.sin(np.deg2rad(tilt))])  # along the belt
    assert cv.foot_angle_deg(heel, flat, 1, tilt) == pytest.approx(0.0, abs=1e-9)
    assert cv.foot_angle_deg(heel, flat, 1, 0.0) == pytest.approx(-tilt)


@pytest.mark.parametrize("faces", [1, -1])
def test_trunk_lean_positive_forward(faces):
    hip = np.array([300.0, 600.0])
    fwd = hip + np.array([faces * 30.0, -200.0])
    back = hip + np.array([-faces * 30.0, -200.0])
    assert cv.trunk_lean_deg(hip, fwd, faces) == pytest.approx(np.rad2deg(np.arctan(0.15)))
    assert cv.trunk_lean_deg(hip, back, faces) == pytest.approx(-np.rad2deg(np.arctan(0.15)))


@pytest.mark.parametrize("faces", [1, -1])
def test_forward_positive_in_direction_of_travel(faces):
    assert cv.forward_px(np.array([faces * 50.0, 0.0]), faces) == pytest.approx(50.0)
    assert cv.forward_px(np.array([-faces * 50.0, 0.0]), faces) == pytest.approx(-50.0)


@pytest.mark.parametrize("tilt", [0.0, 6.0, -6.0])
def test_height_above_belt_positive_above_zero_on_line(tilt):
    y0 = 900.0
    xs = np.array([0.0, 200.0, 600.0])
    on_line = np.stack([xs, y0 + np.tan(np.deg2rad(tilt)) * xs], axis=1)
    assert cv.height_above_belt_px(on_line, tilt, y0) == pytest.approx(np.zeros(3), abs=1e-9)
    above = on_line + np.array([0.0, -30.0])  # 30 px up the picture
    assert cv.height_above_belt_px(above, tilt, y0) == pytest.approx(30.0 * np.cos(np.deg2rad(tilt)) * np.ones(3))


def test_faces_name_and_sign_round_trip():
    assert cv.faces_sign(cv.faces_name(1)) == 1 and cv.faces_sign(cv.faces_name(-1)) == -1
    with pytest.raises(ValueError, match="left' or 'right"):
        cv.faces_sign("up")
