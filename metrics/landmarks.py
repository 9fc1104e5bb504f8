"""MediaPipe BlazePose landmark indices: the one place they are written down.

Indices are 0-based, as MediaPipe numbers its 33 pose landmarks. Names are
MediaPipe's in lower_snake_case (``left_knee``, ``right_foot_index``); they are
the names used in ``keypoints.csv``.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Landmark", "N_LANDMARKS", "LEG_POINTS", "leg", "SIDES", "other_side"]


class Landmark(IntEnum):
    """The 33 BlazePose landmarks, 0-based."""

    nose = 0
    left_eye_inner = 1
    left_eye = 2
    left_eye_outer = 3
    right_eye_inner = 4
    right_eye = 5
    right_eye_outer = 6
    left_ear = 7
    right_ear = 8
    mouth_left = 9
    mouth_right = 10
    left_shoulder = 11
    right_shoulder = 12
    left_elbow = 13
    right_elbow = 14
    left_wrist = 15
    right_wrist = 16
    left_pinky = 17
    right_pinky = 18
    left_index = 19
    right_index = 20
    left_thumb = 21
    right_thumb = 22
    left_hip = 23
    right_hip = 24
    left_knee = 25
    right_knee = 26
    left_ankle = 27
    right_ankle = 28
    left_heel = 29
    right_heel = 30
    left_foot_index = 31
    right_foot_index = 32


N_LANDMARKS = len(Landmark)

#: Body sides, in the order used for per-side arrays.
SIDES = ("left", "right")

#: The points of one leg, proximal to distal. ``foot_index`` is the toe tip.
LEG_POINTS = ("hip", "knee", "ankle", "heel", "foot_index")


def leg(side: str) -> dict[str, int]:
    """Landmark indices of one leg (and that side's shoulder), keyed by point name.

    >>> leg("left")["knee"]
    25
    """
    if side not in SIDES:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    pts = {p: int(Landmark[f"{side}_{p}"]) for p in LEG_POINTS}
    pts["shoulder"] = int(Landmark[f"{side}_shoulder"])
    return pts


def other_side(side: str) -> str:
    """``'left'`` <-> ``'right'``."""
    return {"left": "right", "right": "left"}[side]


#: Pairs of landmarks that swap when the model confuses left and right.
LEFT_RIGHT_PAIRS = tuple(
    (int(Landmark[n]), int(Landmark["right" + n[4:]]))
    for n in Landmark.__members__
    if n.startswith("left")
)
__all__.append("LEFT_RIGHT_PAIRS")
