"""Joint and segment measures at each initial contact, and the series they come from.

Everything here reads a (cleaned) :class:`~metrics.track.PoseTrack` and the camera
geometry (direction of travel, belt line, body scale). Signs follow
:mod:`metrics.conventions`.

Notes
-----
MediaPipe's ``heel`` and ``foot_index`` landmarks are points on the *foot*, not the
outline of the shoe: ``heel`` sits near the back of the heel bone and ``foot_index``
near the tip of the second toe. The heel-to-toe line of a flat shoe is therefore
a few degrees off the belt. The foot angle is reported raw (``foot_angle_deg``,
against the belt) and relative to the same foot's flat-on-the-belt angle at
mid-stance (``foot_strike_angle_deg``); the strike pattern uses the relative one,
which plays the part of Altman & Davis's "minus the standing trial" step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from metrics import conventions as cv
from metrics.landmarks import Landmark, leg
from metrics.track import PoseTrack

__all__ = [
    "Geometry", "STRIKE_PATTERN_RFS_DEG", "STRIKE_PATTERN_FFS_DEG", "LEG_LENGTH_PER_HEIGHT",
    "leg_length_px", "px_per_cm", "pelvis_xy", "shoulders_xy", "angle_series", "foot_height_px",
    "pelvis_height_px", "trunk_lean_series_deg", "strike_pattern", "strike_measures", "foot_flat_deg",
    "vertical_oscillation_px", "find_toe_off", "view_check", "double_support_share",
]

#: Foot-strike angle thresholds in degrees (foot angle at contact minus the flat-foot angle).
#: Altman & Davis (2012, Gait & Posture 35:298-300) classify rearfoot above 8.0 deg,
#: forefoot below -1.6 deg and midfoot in between, from 2D sagittal video against the strike
#: index. Figures as recalled from that paper; not re-checked against its full text here.
STRIKE_PATTERN_RFS_DEG = 8.0
STRIKE_PATTERN_FFS_DEG = -1.6

#: Thigh + shank length (hip joint to ankle joint) as a share of standing height:
#: thigh 0.245 H + shank 0.246 H in the segment-length table of Winter, *Biomechanics and
#: Motor Control of Human Movement* (after Drillis & Contini 1966).
LEG_LENGTH_PER_HEIGHT = 0.491

#: A leg point counts as seen at or above this model visibility.
MIN_VISIBILITY = 0.5


@dataclass(frozen=True)
class Geometry:
    """Camera and body scale shared by every per-strike measure.

    Attributes
    ----------
    faces : +1 when the runner faces image-right, -1 image-left.
    tilt_deg : belt line angle in the picture (see :mod:`metrics.conventions`).
    belt_y_at_x0_px : where the belt line crosses x = 0 (NaN when unknown).
    leg_length_px : median hip-knee + knee-ankle length over the clip, pixels.
    px_per_cm : image scale from the runner's height (None without a height).
    foot_flat_deg : per side, the foot angle at mid-stance (the flat-foot reference).
    """

    faces: int
    tilt_deg: float = 0.0
    belt_y_at_x0_px: float = float("nan")
    leg_length_px: float = float("nan")
    px_per_cm: float | None = None
    foot_flat_deg: dict = field(default_factory=lambda: {"left": 0.0, "right": 0.0})


def _seen(track: PoseTrack, idx: list[int]) -> np.ndarray:
    """(T,) True where every landmark in ``idx`` is finite and visible enough."""
    ok = np.isfinite(track.xy_px[:, idx, :]).all(axis=(1, 2))
    return ok & (track.visibility[:, idx] >= MIN_VISIBILITY).all(axis=1)


def leg_length_px(track: PoseTrack) -> float:
    """Median over frames and both legs of hip-knee + knee-ankle length, in pixels.

    Frames where any of the three points is unseen are skipped; NaN when none is left.
    """
    lengths = []
    for side in ("left", "right"):
        p = leg(side)
        ok = _seen(track, [p["hip"], p["knee"], p["ankle"]])
        hip, knee, ankle = (track.xy_px[ok, p[k]] for k in ("hip", "knee", "ankle"))
        lengths.append(np.linalg.norm(knee - hip, axis=1) + np.linalg.norm(ankle - knee, axis=1))
    all_len = np.concatenate(lengths)
    return float(np.median(all_len)) if all_len.size else float("nan")


def px_per_cm(leg_len_px: float, runner_height_cm: float | None) -> float | None:
    """Image scale from the runner's height: leg length in pixels / (0.491 x height).

    >>> px_per_cm(491.0, 200.0)
    5.0
    """
    if runner_height_cm is None or not np.isfinite(leg_len_px) or runner_height_cm <= 0:
        return None
    return float(leg_len_px / (LEG_LENGTH_PER_HEIGHT * runner_height_cm))


def _mid(track: PoseTrack, a: int, b: int) -> np.ndarray:
    """(T, 2) midpoint of two landmarks, or the one seen when the other is not."""
    pa, pb = track.xy_px[:, a], track.xy_px[:, b]
    mid = 0.5 * (pa + pb)
    mid = np.where(np.isfinite(mid), mid, pa)
    return np.where(np.isfinite(mid), mid, pb)


def pelvis_xy(track: PoseTrack) -> np.ndarray:
    """(T, 2) pelvis centre: the midpoint of the two hip landmarks."""
    return _mid(track, Landmark.left_hip, Landmark.right_hip)


def shoulders_xy(track: PoseTrack) -> np.ndarray:
    """(T, 2) midpoint of the two shoulder landmarks."""
    return _mid(track, Landmark.left_shoulder, Landmark.right_shoulder)


def angle_series(track: PoseTrack, side: str, geom: Geometry) -> dict[str, np.ndarray]:
    """Per-frame angles of one leg in degrees: ``shin``, ``thigh``, ``knee_flexion``, ``foot``."""
    p = leg(side)
    xy = track.xy_px
    f, t = geom.faces, geom.tilt_deg
    return {
        "shin": cv.shin_angle_deg(xy[:, p["knee"]], xy[:, p["ankle"]], f, t),
        "thigh": cv.segment_angle_deg(xy[:, p["hip"]], xy[:, p["knee"]], f, t),
        "knee_flexion": cv.knee_flexion_deg(xy[:, p["hip"]], xy[:, p["knee"]], xy[:, p["ankle"]], f, t),
        "foot": cv.foot_angle_deg(xy[:, p["heel"]], xy[:, p["foot_index"]], f, t),
    }


def foot_height_px(track: PoseTrack, side: str, geom: Geometry) -> np.ndarray:
    """(T,) height above the belt of the lower of heel and toe, pixels (NaN without a belt line)."""
    p = leg(side)
    h = np.stack([cv.height_above_belt_px(track.xy_px[:, p[k]], geom.tilt_deg, geom.belt_y_at_x0_px)
                  for k in ("heel", "foot_index")])
    with np.errstate(invalid="ignore"):
        low = np.nanmin(np.where(np.isfinite(h), h, np.inf), axis=0)
    return np.where(np.isfinite(low), low, np.nan)


def pelvis_height_px(track: PoseTrack, geom: Geometry) -> np.ndarray:
    """(T,) pelvis height along the belt normal, pixels; the offset is arbitrary without a belt line."""
    y0 = geom.belt_y_at_x0_px if np.isfinite(geom.belt_y_at_x0_px) else 0.0
    return cv.height_above_belt_px(pelvis_xy(track), geom.tilt_deg, y0)


def trunk_lean_series_deg(track: PoseTrack, geom: Geometry) -> np.ndarray:
    """(T,) trunk lean in degrees (+ = forward), pelvis centre to shoulder midpoint."""
    return cv.trunk_lean_deg(pelvis_xy(track), shoulders_xy(track), geom.faces, geom.tilt_deg)


def strike_pattern(foot_strike_angle_deg: float | None) -> str | None:
    """``'rearfoot'`` above 8.0 deg, ``'forefoot'`` below -1.6 deg, else ``'midfoot'``.

    The argument is the foot angle at contact minus the flat-foot angle (Altman & Davis 2012).

    >>> [strike_pattern(a) for a in (15.0, 3.0, -5.0)]
    ['rearfoot', 'midfoot', 'forefoot']
    """
    if foot_strike_angle_deg is None or not np.isfinite(foot_strike_angle_deg):
        return None
    if foot_strike_angle_deg > STRIKE_PATTERN_RFS_DEG:
        return "rearfoot"
    if foot_strike_angle_deg < STRIKE_PATTERN_FFS_DEG:
        return "forefoot"
    return "midfoot"


def _value_at_time(series: np.ndarray, t_s: np.ndarray, time_s: float) -> float:
    """Linear interpolation of a per-frame series at ``time_s`` between the two frames around it."""
    i1 = int(np.searchsorted(t_s, time_s, side="right"))
    i0 = i1 - 1
    if i0 < 0:
        return float(series[0])
    if i1 >= len(t_s) or t_s[i1] <= t_s[i0]:
        return float(series[i0])
    w = (time_s - t_s[i0]) / (t_s[i1] - t_s[i0])
    return float((1 - w) * series[i0] + w * series[i1])


def _num(x) -> float | None:
    """A finite float, or None."""
    x = float(x)
    return x if np.isfinite(x) else None


def strike_measures(track: PoseTrack, side: str, ic_frame: int, ic_time_s: float, geom: Geometry) -> dict:
    """Measures of one leg at initial contact.

    Parameters
    ----------
    track : cleaned pose track.
    side : ``'left'`` or ``'right'`` (body side of the contacting leg).
    ic_frame : frame of initial contact; the angles are read on this frame.
    ic_time_s : time of initial contact (may fall between frames); the shin angle is also
        interpolated to this instant (``shin_angle_at_ic_time_deg``), since the shank turns
        about 10 deg per frame around contact at 30 fps.
    geom : camera geometry and body scale.

    Returns
    -------
    dict with ``shin_angle_deg``, ``shin_angle_at_ic_time_deg``, ``knee_flexion_deg``,
    ``foot_angle_deg`` (against the belt, on ``ic_frame``), ``foot_angle_at_ic_time_deg``
    (interpolated to ``ic_time_s``), ``foot_strike_angle_deg`` (the interpolated angle minus the
    flat-foot angle: a rearfoot strike flattens within a frame or two, so the contact frame
    alone under-reads it), ``strike_pattern`` (from ``foot_strike_angle_deg``), ``heel_ahead_px`` (heel ahead of the pelvis centre along the
    belt), ``overstride`` (``heel_ahead_px`` / leg length), ``overstride_cm`` (None without
    a height) and ``visibility`` (mean model visibility of the leg's points). Values are
    None where a landmark is unseen.
    """
    p = leg(side)
    i = int(ic_frame)
    xy = track.xy_px[i]
    f, t = geom.faces, geom.tilt_deg
    shin = cv.shin_angle_deg(xy[p["knee"]], xy[p["ankle"]], f, t)
    foot = cv.foot_angle_deg(xy[p["heel"]], xy[p["foot_index"]], f, t)
    heel_ahead = cv.forward_px(xy[p["heel"]] - pelvis_xy(track[i:i + 1])[0], f, t)
    j = int(np.searchsorted(track.t_s, ic_time_s, side="right"))  # the two frames around the instant
    near = track[max(j - 1, 0):min(j, len(track) - 1) + 1]
    series = angle_series(near, side, geom)
    foot_at_time = _value_at_time(series["foot"], near.t_s, ic_time_s)
    foot_rel = foot_at_time - geom.foot_flat_deg.get(side, 0.0)
    overstride = heel_ahead / geom.leg_length_px if np.isfinite(geom.leg_length_px) else np.nan
    vis = track.visibility[i, [p[k] for k in ("hip", "knee", "ankle", "heel", "foot_index")]]
    return {
        "shin_angle_deg": _num(shin),
        "shin_angle_at_ic_time_deg": _num(_value_at_time(series["shin"], near.t_s, ic_time_s)),
        "knee_flexion_deg": _num(cv.knee_flexion_deg(xy[p["hip"]], xy[p["knee"]], xy[p["ankle"]], f, t)),
        "foot_angle_deg": _num(foot),
        "foot_angle_at_ic_time_deg": _num(foot_at_time),
        "foot_strike_angle_deg": _num(foot_rel),
        "strike_pattern": strike_pattern(_num(foot_rel)),
        "heel_ahead_px": _num(heel_ahead),
        "overstride": _num(overstride),
        "overstride_cm": _num(heel_ahead / geom.px_per_cm) if geom.px_per_cm else None,
        "visibility": float(np.mean(vis)),
    }


def foot_flat_deg(track: PoseTrack, side: str, contacts: list[tuple[int, int]], geom: Geometry) -> float:
    """The foot's angle against the belt at mid-stance (median over contacts), degrees.

    ``contacts`` holds ``(ic_frame, toe_off_frame)`` pairs of this foot. 0 when none is usable.
    """
    foot = angle_series(track, side, geom)["foot"]
    mids = [(a + b) // 2 for a, b in contacts if b is not None and b > a]
    vals = foot[mids] if mids else np.array([])
    vals = vals[np.isfinite(vals)]
    return float(np.median(vals)) if vals.size else 0.0


def vertical_oscillation_px(pelvis_height: np.ndarray, ic_frames: list[int]) -> float | None:
    """Median over steps of the pelvis's up-down range between consecutive contacts, pixels.

    ``ic_frames`` are the contacts of both feet in time order; each consecutive pair is one step.
    """
    ranges = []
    for a, b in zip(ic_frames[:-1], ic_frames[1:]):
        seg = pelvis_height[a:b + 1]
        seg = seg[np.isfinite(seg)]
        if b > a and seg.size >= max(3, (b - a) // 2):
            ranges.append(seg.max() - seg.min())
    return float(np.median(ranges)) if ranges else None


def double_support_share(foot_height: dict, leg_len_px: float, tol_leg: float = 0.04) -> float | None:
    """Share of frames with both feet on the belt: about 0 when running, 0.2 or more when walking.

    A foot counts as on the belt when its height is within ``tol_leg`` x leg length of its own
    stance level (its 10th-percentile height: the far foot stands higher in the picture).
    ``foot_height`` maps ``'left'``/``'right'`` to (T,) heights (:func:`foot_height_px`).
    None when the feet are not seen together or there is no scale.
    """
    on, seen = [], []
    for side in ("left", "right"):
        h = np.asarray(foot_height[side], float)
        ok = np.isfinite(h)
        if ok.sum() < 10 or not np.isfinite(leg_len_px):
            return None
        level = np.percentile(h[ok], 10)
        on.append(ok & (np.where(ok, h, np.inf) <= level + tol_leg * leg_len_px))
        seen.append(ok)
    both_seen = seen[0] & seen[1]
    return float((on[0] & on[1])[both_seen].mean()) if both_seen.sum() >= 10 else None


def find_toe_off(track: PoseTrack, side: str, ic_frame: int, geom: Geometry, max_contact_s: float = 0.45,
                 lift_fraction: float = 0.04) -> int | None:
    """Last frame the foot still touches the belt after ``ic_frame``, from the toe's height.

    The toe's lowest height in the ``max_contact_s`` after contact is the stance level; toe-off
    is the frame before the toe first rises more than ``lift_fraction`` x leg length above it
    (after the lowest point). None when the toe is unseen or never rises in the window.
    """
    p = leg(side)
    t = track.t_s
    stop = int(np.searchsorted(t, t[ic_frame] + max_contact_s, side="right"))
    toe = cv.height_above_belt_px(track.xy_px[ic_frame:stop, p["foot_index"]], geom.tilt_deg,
                                  geom.belt_y_at_x0_px if np.isfinite(geom.belt_y_at_x0_px) else 0.0)
    if toe.size < 3 or not np.isfinite(toe).any() or not np.isfinite(geom.leg_length_px):
        return None
    low = int(np.nanargmin(toe))
    above = np.flatnonzero(toe[low:] > toe[low] + lift_fraction * geom.leg_length_px)
    if above.size == 0:
        return None
    return int(ic_frame + low + above[0] - 1)


def view_check(track: PoseTrack, geom: Geometry, max_width_ratio: float = 0.45,
               min_foot_travel: float = 0.35) -> dict:
    """Is this a side view? Compares body width with torso height and the feet's fore-aft travel.

    In a side view the two hips (and the two shoulders) nearly overlap horizontally, and the
    ankles swing fore-aft by roughly half a leg length or more. A front or back view shows
    hips and shoulders about half a torso height apart and ankles that barely move along the
    belt.

    Returns
    -------
    dict with ``side_view`` (bool), ``width_ratio`` (median over frames of the larger of hip and
    shoulder width along the belt / torso height), ``foot_travel`` (5-95 % range of the ankles'
    position along the belt relative to the pelvis / leg length; the larger of the two legs).
    """
    xy = track.xy_px
    torso = np.linalg.norm(shoulders_xy(track) - pelvis_xy(track), axis=1)
    widths = []
    for a, b in ((Landmark.left_hip, Landmark.right_hip), (Landmark.left_shoulder, Landmark.right_shoulder)):
        widths.append(np.abs(cv.forward_px(xy[:, a] - xy[:, b], geom.faces, geom.tilt_deg)))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.fmax(widths[0], widths[1]) / torso
    ratio = ratio[np.isfinite(ratio)]
    width_ratio = float(np.median(ratio)) if ratio.size else float("nan")
    travel = []
    pelvis = pelvis_xy(track)
    for side in ("left", "right"):
        fwd = cv.forward_px(xy[:, leg(side)["ankle"]] - pelvis, geom.faces, geom.tilt_deg)
        fwd = fwd[np.isfinite(fwd)]
        if fwd.size >= 10 and np.isfinite(geom.leg_length_px):
            lo, hi = np.percentile(fwd, [5, 95])
            travel.append((hi - lo) / geom.leg_length_px)
    foot_travel = float(max(travel)) if travel else float("nan")
    side_view = bool(not (width_ratio > max_width_ratio) and not (foot_travel < min_foot_travel))
    return {"side_view": side_view, "width_ratio": _num(width_ratio), "foot_travel": _num(foot_travel)}
