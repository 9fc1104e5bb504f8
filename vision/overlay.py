"""What to draw on each frame, as plain data, for the video exports (:mod:`vision.draw`).
The browser player gets the same track and strikes from :mod:`ui.player.data`.

No drawing and no cv2 here. A frame's overlay is the runner's two legs as seen in that
frame, plus every strike whose measurement is on screen: from its initial-contact (IC)
frame for ``hold_s`` seconds of real time, frozen at the IC frame's positions (the
numbers belong to that instant, not to the frames after it).

Strikes are numbered from 1 in the order of the strikes list, which is the row order
of ``strikes.csv``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from metrics.conventions import faces_sign, shin_angle_deg
from metrics.landmarks import LEG_POINTS, SIDES, leg
from metrics.track import PoseTrack
from vision.palette import side_letter

__all__ = ["StrikeMark", "FrameOverlay", "strike_marks", "overlay_for_frame", "DEFAULT_HOLD_S"]

#: How long a strike's measurement stays on screen after its contact, seconds of real time.
DEFAULT_HOLD_S = 0.25

Point = tuple[float, float] | None


@dataclass(frozen=True)
class StrikeMark:
    """One strike's measurement, with the leg positions of its IC frame.

    ``number`` is 1-based (row of strikes.csv); ``shin_angle_deg`` and ``overstride``
    (fraction of leg length) are the analysis values, not re-measured here;
    ``overstride_cm`` is None when no scale is known. ``hip`` is the pelvis point the
    overstride is measured from (mid-hip when both hips are seen).
    """

    number: int
    foot: str
    ic_frame: int
    ic_time_s: float
    last_frame: int  # last frame the mark is shown on (inclusive)
    rejected: bool
    edited: bool
    hip: Point
    knee: Point
    ankle: Point
    heel: Point
    toe: Point
    shin_angle_deg: float | None
    overstride: float | None
    overstride_cm: float | None
    strike_pattern: str | None

    @property
    def label(self) -> str:
        """``'R IC #7'``."""
        return f"{side_letter(self.foot)} IC #{self.number}"


@dataclass(frozen=True)
class FrameOverlay:
    """Everything drawn on one frame. ``legs[side][point]`` is ``(x, y)`` px or None."""

    frame_index: int
    t_s: float
    legs: dict
    strikes: tuple[StrikeMark, ...]
    faces: int
    tilt_deg: float = 0.0

    def contact_on_this_frame(self) -> tuple[StrikeMark, ...]:
        return tuple(s for s in self.strikes if s.ic_frame == self.frame_index)


def _finite(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _point(track: PoseTrack, frame: int, index: int, min_visibility: float) -> Point:
    x, y = track.xy_px[frame, index]
    if not (np.isfinite(x) and np.isfinite(y)) or track.visibility[frame, index] < min_visibility:
        return None
    return float(x), float(y)


def _leg_points(track: PoseTrack, frame: int, side: str, min_visibility: float) -> dict[str, Point]:
    ids = leg(side)
    return {p: _point(track, frame, ids[p], min_visibility) for p in LEG_POINTS}


def _pelvis(track: PoseTrack, frame: int, side: str, min_visibility: float) -> Point:
    hips = [_point(track, frame, leg(s)["hip"], min_visibility) for s in SIDES]
    seen = [h for h in hips if h is not None]
    if len(seen) == 2:
        return (seen[0][0] + seen[1][0]) / 2, (seen[0][1] + seen[1][1]) / 2
    own = hips[SIDES.index(side)]
    return own if own is not None else (seen[0] if seen else None)


def _overstride_cm(strike: dict, runner: dict, hip: Point, heel: Point) -> float | None:
    cm = _finite(strike.get("overstride_cm"))
    if cm is not None:
        return cm
    frac = _finite(strike.get("overstride"))
    leg_cm = _finite(runner.get("leg_length_cm"))
    if frac is not None and leg_cm:
        return frac * leg_cm
    cm_per_px = _finite(runner.get("cm_per_px"))
    if cm_per_px and hip is not None and heel is not None and frac is not None:
        return math.copysign(abs(heel[0] - hip[0]) * cm_per_px, frac)
    return None


def strike_marks(track: PoseTrack, strikes: Sequence[dict], runner: dict | None = None,
                 hold_s: float = DEFAULT_HOLD_S, min_visibility: float = 0.0) -> list[StrikeMark]:
    """One :class:`StrikeMark` per strike with an IC frame inside the track.

    A missing ``shin_angle_deg`` is measured from the IC frame's knee and ankle.
    """
    runner = runner or {}
    faces = faces_sign(runner.get("faces", "right"))
    t = track.t_s
    marks = []
    for n, s in enumerate(strikes, start=1):
        f = s.get("ic_frame")
        side = s.get("foot")
        if f is None or side not in SIDES or not 0 <= int(f) < len(track):
            continue
        f = int(f)
        pts = _leg_points(track, f, side, min_visibility)
        hip = _pelvis(track, f, side, min_visibility)
        last = int(np.searchsorted(t, t[f] + hold_s + 1e-9, side="right")) - 1
        shin = _finite(s.get("shin_angle_deg"))
        if shin is None and pts["knee"] is not None and pts["ankle"] is not None:
            shin = float(shin_angle_deg(np.array(pts["knee"]), np.array(pts["ankle"]), faces))
        marks.append(StrikeMark(
            number=n, foot=side, ic_frame=f, ic_time_s=_finite(s.get("ic_time_s")) or float(t[f]),
            last_frame=max(f, last), rejected=bool(s.get("rejected")), edited=bool(s.get("edited")),
            hip=hip, knee=pts["knee"], ankle=pts["ankle"], heel=pts["heel"], toe=pts["foot_index"],
            shin_angle_deg=shin, overstride=_finite(s.get("overstride")),
            overstride_cm=_overstride_cm(s, runner, hip, pts["heel"]),
            strike_pattern=s.get("strike_pattern"),
        ))
    return marks


def overlay_for_frame(track: PoseTrack, marks: Sequence[StrikeMark], frame_index: int, faces: int | str,
                      tilt_deg: float = 0.0, min_visibility: float = 0.0) -> FrameOverlay:
    """The overlay of one frame: both legs as seen now, and the strikes on screen.

    Parameters
    ----------
    track : the cleaned pose track.
    marks : from :func:`strike_marks` (computed once per clip).
    frame_index : 0-based frame.
    faces : +1/-1 or ``'right'``/``'left'``, the runner's direction of travel.
    tilt_deg : belt tilt; the shin's reference line is the belt's normal.
    """
    i = int(frame_index)
    if not 0 <= i < len(track):
        raise IndexError(f"frame {i} is outside the track (0..{len(track) - 1})")
    sign = faces_sign(faces) if isinstance(faces, str) else (1 if faces >= 0 else -1)
    legs = {side: _leg_points(track, i, side, min_visibility) for side in SIDES}
    active = tuple(m for m in marks if m.ic_frame <= i <= m.last_frame)
    return FrameOverlay(i, float(track.t_s[i]), legs, active, sign, float(tilt_deg))
