"""Initial contact and toe-off of each foot.

Definition (as the hand labels): ``ic_frame`` is the first frame whose picture shows
the shoe on the belt; ``toe_off_frame`` the last frame that still does.

Method, per foot, in belt coordinates (along the belt, forward = direction of travel;
height above the belt line):

1. **Step windows** (Zeni et al. 2008): the foot's horizontal position relative to the
   pelvis peaks once per stride, just before contact. Peaks at least 0.6 stride apart
   (stride from the autocorrelation of the clip's own motion, so slowed playback works)
   open one search window each.
2. **Touch-down**: the *lowest* foot point (heel or toe, whichever is nearer its own
   stance level: heel for rearfoot, toe for forefoot strikers) enters the belt band
   ``level + tol``. Each point's stance level is its low quantile over the clip, so the
   far foot (higher in the picture) and landmark offsets need no calibration. The IC
   time is interpolated where the height crosses the band, between the last frame
   above and the first frame in it; ``ic_frame`` is the first picture at or after that
   time (a repeated frame shows the picture before it, so it is skipped).
3. **Toe-off**: the first frame after mid-stance where the toe rises above its band;
   the frame before is the last one on the belt. Falls back to the foot-behind-pelvis
   minimum when the toe height is unclear.

When no frame of a window reaches the band (a hidden far foot), the contact is placed
at the window's pelvis peak plus this foot's typical peak-to-contact delay, with low
confidence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from metrics._timing import content_times_s, step_period_s
from metrics.belt import BeltLine, height_above_belt_px
from metrics.clean import body_scale_px, frame_times_s, near_side as _near_side
from metrics.conventions import rotate_to_belt
from metrics.landmarks import Landmark, SIDES
from metrics.track import PoseTrack

__all__ = ["Contact", "EventOptions", "detect_contacts"]


@dataclass(frozen=True)
class Contact:
    """One foot contact.

    Attributes
    ----------
    foot : ``'left'`` or ``'right'`` (body side as the pose model labels it).
    near : True for the leg nearer the camera.
    ic_frame : first frame showing the shoe on the belt (0-based).
    ic_time_s : time of initial contact on the clip's clock (between frames).
    toe_off_frame : last frame still showing the shoe on the belt, or None.
    toe_off_time_s : time of toe-off, or None.
    confidence : 0..1.
    """

    foot: str
    near: bool
    ic_frame: int
    ic_time_s: float
    toe_off_frame: int | None
    toe_off_time_s: float | None
    confidence: float


@dataclass(frozen=True)
class EventOptions:
    """Parameters of :func:`detect_contacts` (times as shares of the step or stride).

    Attributes
    ----------
    min_stride_share : pelvis-relative foot peaks closer than this share of a stride are one step.
    window_before_step, window_after_step : search for touch-down from this long before to
        this long after the peak, in step periods.
    tol_leg : belt band half-width as a share of leg length (lower bound).
    tol_noise : ... and as a multiple of the stance-level noise.
    level_quantile : each foot point's stance level is this low quantile of its height.
    fallback_step : default peak-to-contact delay when a foot has no touch-down found, in steps.
    """

    min_stride_share: float = 0.6
    window_before_step: float = 0.3
    window_after_step: float = 0.6
    tol_leg: float = 0.02
    tol_noise: float = 3.0
    level_quantile: float = 0.1
    fallback_step: float = 0.1


def _belt_frame(xy: np.ndarray, belt: BeltLine, faces: int) -> tuple[np.ndarray, np.ndarray]:
    """(forward position along the belt, height above the belt) of points (..., 2)."""
    p = np.asarray(xy, float) - np.array([0.0, belt.y_at_x0_px])
    r = rotate_to_belt(p, belt.tilt_deg)
    return faces * r[..., 0], -r[..., 1]


def _level_and_tol(h: np.ndarray, q: float, leg_px: float, opts: EventOptions) -> tuple[float, float]:
    """Stance level of a height series and the band half-width above it."""
    fin = h[np.isfinite(h)]
    if len(fin) < 5:
        return float("nan"), float("nan")
    level = float(np.quantile(fin, q))
    low = fin[fin <= np.quantile(fin, min(2 * q, 0.5))]
    noise = float(np.std(low)) if len(low) > 2 else 0.0
    return level, max(opts.tol_leg * leg_px, opts.tol_noise * noise)


def _crossing_time(t: np.ndarray, h: np.ndarray, i: int, thr: float) -> float:
    """Time between frames i-1 and i where ``h`` falls through ``thr`` (linear)."""
    if i <= 0 or not np.isfinite(h[i - 1]) or h[i - 1] <= h[i]:
        return float(t[i])
    f = (h[i - 1] - thr) / (h[i - 1] - h[i])
    return float(t[i - 1] + np.clip(f, 0.0, 1.0) * (t[i] - t[i - 1]))


def _rise_time(t: np.ndarray, h: np.ndarray, i: int, thr: float) -> float:
    """Time between frames i and i+1 where ``h`` rises through ``thr`` (linear)."""
    if i + 1 >= len(h) or not np.isfinite(h[i + 1]) or h[i + 1] <= h[i]:
        return float(t[i])
    f = (thr - h[i]) / (h[i + 1] - h[i])
    return float(t[i] + np.clip(f, 0.0, 1.0) * (t[i + 1] - t[i]))


def _to_clock(t_eff: float, t_pos: np.ndarray, t_s: np.ndarray) -> float:
    """Map a time on the positions' clock to the clip's timestamps (identical without repeats)."""
    return float(np.interp(t_eff, t_pos, t_s))


def detect_contacts(track_clean: PoseTrack, faces: int, belt: BeltLine, near: str | None = None,
                    options: EventOptions = EventOptions()) -> list[Contact]:
    """Initial contacts and toe-offs of both feet, sorted by ``ic_frame``.

    Parameters
    ----------
    track_clean : cleaned track (:func:`metrics.clean.clean_track`).
    faces : direction of travel, +1 image-right, -1 image-left.
    belt : the belt line (estimated or drawn by the user).
    near : body side nearer the camera; None = :func:`metrics.clean.near_side` of this track.
    options : see :class:`EventOptions`.
    """
    if near is None:
        near = _near_side(track_clean)
    tr = track_clean
    if len(tr) < 5 or not np.isfinite(belt.y_at_x0_px):
        return []
    uniq = np.flatnonzero(~tr.repeated)          # pictures; repeated frames add nothing
    t_pic = content_times_s(tr.t_s, tr.repeated)[uniq]
    t_pos = frame_times_s(tr)
    xy = tr.xy_px[uniq]
    step_s = step_period_s(xy, t_pic)
    if step_s is None:
        return []
    stride_s = 2.0 * step_s
    leg_px, _ = body_scale_px(xy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pelvis = np.nanmean(xy[:, [Landmark.left_hip, Landmark.right_hip]], axis=1)
    pel_fwd, _ = _belt_frame(pelvis, belt, faces)
    dt = float(np.median(np.diff(t_pic)))
    found: list[dict] = []
    for side in SIDES:
        pts = {p: xy[:, Landmark[f"{side}_{p}"]] for p in ("heel", "foot_index", "ankle")}
        fwd = {p: _belt_frame(v, belt, faces)[0] - pel_fwd for p, v in pts.items()}
        hgt = {p: height_above_belt_px(pts[p], belt) for p in ("heel", "foot_index")}
        lev = {p: _level_and_tol(hgt[p], options.level_quantile, leg_px, options) for p in hgt}
        rel = {p: hgt[p] - lev[p][0] for p in hgt}
        tol = max(lev["heel"][1], lev["foot_index"][1])
        low = np.fmin(rel["heel"], rel["foot_index"])
        sig = np.nanmean(np.stack([fwd["heel"], fwd["ankle"]]), axis=0)
        ok = np.isfinite(sig)
        if ok.sum() < 5 or not np.isfinite(tol):
            continue
        sig_f = np.interp(np.arange(len(sig)), np.flatnonzero(ok), sig[ok])
        amp = np.quantile(sig_f, 0.95) - np.quantile(sig_f, 0.05)
        dist = max(1, int(options.min_stride_share * stride_s / dt))
        peaks = _extrema(sig_f, dist, 0.3 * amp)
        troughs = _extrema(-sig_f, dist, 0.3 * amp)
        for pk in peaks:
            lo = np.searchsorted(t_pic, t_pic[pk] - options.window_before_step * step_s)
            hi = np.searchsorted(t_pic, t_pic[pk] + options.window_after_step * step_s, side="right")
            c = _touchdown(t_pic, low, lo, hi, tol)
            rec = {"foot": side, "peak": int(pk), "lo": int(lo), "hi": int(hi)}
            if c is None:
                rec.update(i=None)
            else:
                i, t_ic, clarity = c
                rec.update(i=i, t=t_ic, clarity=clarity)
            found.append(rec)
        # toe-offs for this side, attached below
        for rec in found:
            if rec["foot"] != side or rec.get("i") is None:
                continue
            rec["to"] = _toe_off(t_pic, rel["foot_index"], fwd["foot_index"], rec["i"], step_s, tol, troughs)
    # fallback for windows without a touch-down: this foot's typical delay after its peak
    out: list[Contact] = []
    for side in SIDES:
        recs = [r for r in found if r["foot"] == side]
        delays = [r["t"] - t_pic[r["peak"]] for r in recs if r.get("i") is not None]
        delay = float(np.median(delays)) if delays else options.fallback_step * step_s
        for r in recs:
            vis = _foot_visibility(tr, side, uniq, r)
            if r.get("i") is None:
                t_ic = t_pic[r["peak"]] + delay
                if t_ic > t_pic[-1]:
                    continue
                conf = 0.3 * vis
                to = None
            else:
                t_ic, conf, to = r["t"], float(np.clip(0.5 * r["clarity"] + 0.5 * vis, 0, 1)), r.get("to")
            frame = int(uniq[min(np.searchsorted(t_pic, t_ic - 1e-9), len(uniq) - 1)])
            to_frame = to_time = None
            if to is not None:
                to_frame, to_time = int(uniq[to[0]]), _to_clock(to[1], t_pos, tr.t_s)
            out.append(Contact(side, side == near, frame, _to_clock(t_ic, t_pos, tr.t_s), to_frame, to_time,
                               round(float(conf), 3)))
    return _dedupe(sorted(out, key=lambda c: c.ic_frame), options.min_stride_share * stride_s)


def _extrema(sig: np.ndarray, distance: int, prominence: float) -> np.ndarray:
    """Peaks of ``sig``, including ones near the clip's ends (padded with the minimum)."""
    pad = np.concatenate([[sig.min()], sig, [sig.min()]])
    pk, _ = find_peaks(pad, distance=distance, prominence=prominence)
    return pk - 1


def _touchdown(t: np.ndarray, low: np.ndarray, lo: int, hi: int, tol: float):
    """First frame in [lo, hi) where ``low`` enters the band, after at least one frame above it.

    Returns (frame, interpolated time, clarity 0..1) or None.
    """
    above_seen = False
    for i in range(lo, min(hi, len(low))):
        v = low[i]
        if not np.isfinite(v):
            continue
        if v > tol:
            above_seen = True
            continue
        if above_seen:
            prev = low[i - 1] if i > 0 else np.nan
            drop = (prev - v) if np.isfinite(prev) else 0.0
            clarity = float(np.clip(drop / (2 * tol), 0.0, 1.0))
            return i, _crossing_time(t, low, i, tol), clarity
    return None


def _toe_off(t, toe_rel, toe_fwd, i_ic, step_s, tol, troughs):
    """(last frame on the belt, toe-off time) after contact ``i_ic``, or None."""
    start = np.searchsorted(t, t[i_ic] + 0.25 * step_s)
    stop = np.searchsorted(t, t[i_ic] + 1.3 * step_s)
    for i in range(max(start, i_ic + 1), min(stop, len(t) - 1)):
        if np.isfinite(toe_rel[i]) and toe_rel[i] <= tol and np.isfinite(toe_rel[i + 1]) and toe_rel[i + 1] > tol:
            return i, _rise_time(t, toe_rel, i, tol)
    cand = troughs[(troughs > i_ic) & (troughs < stop)]
    if len(cand):
        return int(cand[0]), float(t[cand[0]])
    return None


def _foot_visibility(track: PoseTrack, side: str, uniq: np.ndarray, rec: dict) -> float:
    idx = [Landmark[f"{side}_{p}"] for p in ("ankle", "heel", "foot_index")]
    i = rec.get("i") if rec.get("i") is not None else rec["peak"]
    rows = uniq[max(0, i - 1): i + 2]
    v = track.visibility[np.ix_(rows, idx)]
    return float(np.clip(np.mean(v), 0.0, 1.0)) if v.size else 0.0


def _dedupe(contacts: list[Contact], min_gap_s: float) -> list[Contact]:
    """Of two contacts of the same foot closer than ``min_gap_s``, keep the more confident."""
    keep: list[Contact] = []
    for c in contacts:
        prev = [k for k in keep if k.foot == c.foot and abs(k.ic_time_s - c.ic_time_s) < min_gap_s]
        if not prev:
            keep.append(c)
        elif c.confidence > prev[-1].confidence:
            keep[keep.index(prev[-1])] = c
    return keep
