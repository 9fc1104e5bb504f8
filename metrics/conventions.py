"""Coordinate, sign and unit conventions, written once.

Image coordinates
    Pixels of the *upright* picture (rotation metadata already applied):
    ``x`` to the right, ``y`` downward, origin at the top-left corner.

Direction of travel
    ``faces = +1`` when the runner faces image-right (moves toward +x),
    ``-1`` when facing image-left. On a treadmill the runner faces the way
    they would travel; the belt moves the other way.

Shin (tibia) angle
    The shank from knee to ankle against the vertical (or, when the camera is
    tilted, against the normal of the belt line), in degrees. ``0`` = vertical,
    positive when the ankle is ahead of the knee in the direction of travel.

Segment angle (thigh, shank)
    A segment from its proximal to its distal point against the belt normal
    (pointing down), positive when the distal point is ahead of the proximal
    one in the direction of travel. The shin angle is the shank's segment angle.

Knee flexion
    180 deg minus the hip-knee-ankle angle: ``0`` = straight leg. Signed:
    thigh angle minus shank angle, so flexion (ankle behind the line of the
    thigh) is positive and hyperextension negative.

Foot angle
    The heel-to-toe line against the belt, positive when the toes are up.

Trunk lean
    The hip-to-shoulder line against the belt normal (pointing up), positive
    when the shoulders are ahead of the hips (leaning forward).

Belt line and heights
    The belt line is ``y = y_at_x0_px + tan(tilt_deg) * x`` in image pixels.
    A point's height above the belt is its distance from that line measured
    along the belt normal, positive above the belt (toward the top of the
    picture). Forward distances are measured along the belt, positive in the
    direction of travel.

Frames and time
    Frame numbers are 0-based in decode order. Times are seconds from the
    first decoded frame, real-world (slow-motion clips rescaled to capture
    time). Intervals are half-open ``[start, end)``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FACES_RIGHT", "FACES_LEFT", "faces_name", "faces_sign", "shin_angle_deg", "rotate_to_belt",
    "segment_angle_deg", "knee_flexion_deg", "foot_angle_deg", "trunk_lean_deg", "forward_px",
    "height_above_belt_px", "wrap_deg",
]

FACES_RIGHT = 1
FACES_LEFT = -1


def faces_name(sign: int) -> str:
    """``+1 -> 'right'``, ``-1 -> 'left'``."""
    return "right" if sign > 0 else "left"


def faces_sign(name: str) -> int:
    """``'right' -> +1``, ``'left' -> -1``."""
    if name not in ("left", "right"):
        raise ValueError(f"faces must be 'left' or 'right', got {name!r}")
    return FACES_RIGHT if name == "right" else FACES_LEFT


def rotate_to_belt(vec_xy: np.ndarray, tilt_deg: float) -> np.ndarray:
    """Express image vectors in the belt frame.

    ``tilt_deg`` is the belt line's angle in the image, positive when the belt
    line runs downward to the right (clockwise on screen, since y points down).
    The returned vectors have the belt along +x and its normal along +y (down).

    Parameters
    ----------
    vec_xy : (..., 2) array of image-pixel vectors.
    tilt_deg : belt tilt in degrees.
    """
    a = np.deg2rad(tilt_deg)
    c, s = np.cos(a), np.sin(a)
    v = np.asarray(vec_xy, dtype=float)
    x = c * v[..., 0] + s * v[..., 1]
    y = -s * v[..., 0] + c * v[..., 1]
    return np.stack([x, y], axis=-1)


def shin_angle_deg(knee_xy: np.ndarray, ankle_xy: np.ndarray, faces: int, tilt_deg: float = 0.0) -> np.ndarray:
    """Shin angle from vertical in degrees (see module docstring for the sign).

    >>> float(shin_angle_deg(np.array([0.0, 0.0]), np.array([10.0, 100.0]), faces=+1).round(1))
    5.7
    >>> float(shin_angle_deg(np.array([0.0, 0.0]), np.array([10.0, 100.0]), faces=-1).round(1))
    -5.7
    """
    v = rotate_to_belt(np.asarray(ankle_xy, float) - np.asarray(knee_xy, float), tilt_deg)
    return np.rad2deg(np.arctan2(faces * v[..., 0], v[..., 1]))


def wrap_deg(angle_deg: np.ndarray) -> np.ndarray:
    """Wrap angles into ``[-180, 180)`` degrees.

    >>> float(wrap_deg(190.0))
    -170.0
    """
    return (np.asarray(angle_deg, float) + 180.0) % 360.0 - 180.0


def segment_angle_deg(proximal_xy: np.ndarray, distal_xy: np.ndarray, faces: int, tilt_deg: float = 0.0) -> np.ndarray:
    """Angle of a limb segment from the belt normal (pointing down), in degrees.

    Positive when the distal point is ahead of the proximal one in the direction of
    travel. ``shin_angle_deg`` is this angle for the knee->ankle segment.

    >>> float(segment_angle_deg(np.array([0.0, 0.0]), np.array([-10.0, 100.0]), faces=-1).round(1))
    5.7
    """
    return shin_angle_deg(proximal_xy, distal_xy, faces, tilt_deg)


def knee_flexion_deg(hip_xy: np.ndarray, knee_xy: np.ndarray, ankle_xy: np.ndarray, faces: int,
                     tilt_deg: float = 0.0) -> np.ndarray:
    """Knee flexion in degrees: thigh angle minus shank angle (0 = straight, + = flexed).

    >>> float(knee_flexion_deg(np.array([0.0, 0.0]), np.array([0.0, 100.0]), np.array([-50.0, 186.6]),
    ...                        faces=+1).round(1))
    30.0
    """
    thigh = segment_angle_deg(hip_xy, knee_xy, faces, tilt_deg)
    shank = segment_angle_deg(knee_xy, ankle_xy, faces, tilt_deg)
    return wrap_deg(thigh - shank)


def forward_px(vec_xy: np.ndarray, faces: int, tilt_deg: float = 0.0) -> np.ndarray:
    """Component of image vectors along the belt, positive in the direction of travel.

    >>> float(forward_px(np.array([-30.0, 5.0]), faces=-1))
    30.0
    """
    return faces * rotate_to_belt(vec_xy, tilt_deg)[..., 0]


def foot_angle_deg(heel_xy: np.ndarray, toe_xy: np.ndarray, faces: int, tilt_deg: float = 0.0) -> np.ndarray:
    """Heel-to-toe line against the belt in degrees, positive when the toes are up.

    >>> float(foot_angle_deg(np.array([0.0, 100.0]), np.array([100.0, 90.0]), faces=+1).round(1))
    5.7
    """
    v = rotate_to_belt(np.asarray(toe_xy, float) - np.asarray(heel_xy, float), tilt_deg)
    return np.rad2deg(np.arctan2(-v[..., 1], faces * v[..., 0]))


def trunk_lean_deg(hip_xy: np.ndarray, shoulder_xy: np.ndarray, faces: int, tilt_deg: float = 0.0) -> np.ndarray:
    """Hip-to-shoulder line from the belt normal in degrees, positive = leaning forward.

    >>> float(trunk_lean_deg(np.array([0.0, 100.0]), np.array([10.0, 0.0]), faces=+1).round(1))
    5.7
    """
    v = rotate_to_belt(np.asarray(shoulder_xy, float) - np.asarray(hip_xy, float), tilt_deg)
    return np.rad2deg(np.arctan2(faces * v[..., 0], -v[..., 1]))


def height_above_belt_px(point_xy: np.ndarray, tilt_deg: float, y_at_x0_px: float) -> np.ndarray:
    """Distance of image points above the belt line along its normal, in pixels (+ = above).

    >>> float(height_above_belt_px(np.array([100.0, 480.0]), 0.0, 500.0))
    20.0
    """
    p = rotate_to_belt(point_xy, tilt_deg)
    belt_y = np.cos(np.deg2rad(tilt_deg)) * y_at_x0_px
    return belt_y - p[..., 1]
