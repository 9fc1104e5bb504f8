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

Knee flexion
    180 deg minus the hip-knee-ankle angle: ``0`` = straight leg.

Foot angle
    The heel-to-toe line against the belt, positive when the toes are up.

Frames and time
    Frame numbers are 0-based in decode order. Times are seconds from the
    first decoded frame, real-world (slow-motion clips rescaled to capture
    time). Intervals are half-open ``[start, end)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FACES_RIGHT", "FACES_LEFT", "faces_name", "faces_sign", "shin_angle_deg", "rotate_to_belt"]

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
