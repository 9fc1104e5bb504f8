"""Initial contact and toe-off of each foot.

Definition (as the hand labels): ``ic_frame`` is the first frame whose picture shows
the shoe on the belt; ``toe_off_frame`` the last frame that still does.

Method, per foot, with positions along the belt relative to the pelvis (forward =
direction of travel) and heights above the belt line, on the clip's pictures only
(repeated frames dropped, pictures re-timed, see :func:`metrics._timing.content_times_s`):

1. **Step windows** (Zeni et al. 2008): the foot's position ahead of the pelvis (heel
   and ankle) peaks once per stride, just before contact. Peaks at least 0.6 stride
   apart (stride from the autocorrelation of the clip's own motion, so slowed
   playback works) open one window each.
2. **Contact time**, the mean of two cues that fail differently:

   * *peak + retraction*: the sub-frame peak time plus ``peak_delay_step`` (0.12 of a
     step: the swing foot retracts briefly before it lands);
   * *the belt takes the foot*: at contact the belt (or, overground, the ground while
     the body passes over it) drags the foot backward at stance speed. The time its
     backward speed relative to the pelvis first reaches ``belt_speed_share`` (half)
     of its mid-stance speed, median over heel, ankle and toe. Being a share of the
     foot's own stance speed, belt speed, camera distance and playback rate cancel.

   On the labelled clips the peak cue alone lands about 0.1 step early and the speed
   cue's bias depends on how the pose model smooths in time; their mean was within
   one frame of the hand labels for every contact of the 30 fps clips with two
   versions of the pose pass.
3. **Height check**: the lowest foot point (heel or toe, each against its own stance
   level, so rearfoot, midfoot and forefoot strikes and the far foot's higher belt
   line all work) must be near the belt then; if not, the first frame the lowest point
   enters the belt band (``band_foot`` foot lengths) is used, with lower confidence.
4. ``ic_frame`` is the first picture at or after the contact time (a repeated frame
   shows the picture before it, so it is never the contact frame).
5. **Toe-off**: the toe rising more than ``toe_band_foot`` foot lengths above its
   stance level after mid-stance, the frame before being the last on the belt;
   failing that, the toe's backward speed falling below ``toe_off_speed_share`` of
   stance speed.

Confidence: 1 when the two timing cues agree within 0.15 step and the foot is near the
belt, less otherwise; scaled by the model's visibility of the foot.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from metrics._timing import content_times_s, step_period_s
from metrics.belt import BeltLine
from metrics.clean import body_scale_px, frame_times_s, near_side as _near_side
from metrics.conventions import rotate_to_belt
from metrics.landmarks import Landmark, SIDES
from metrics.track import PoseTrack

__all__ = ["Contact", "EventOptions", "detect_contacts"]

_POINTS = ("heel", "ankle", "foot_index")


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
    """Parameters of :func:`detect_contacts`; times are shares of the step (contact to contact).

    Attributes
    ----------
    min_stride_share : pelvis-relative foot peaks closer than this share of a stride are one step.
    belt_speed_share : contact when the foot's backward speed relative to the pelvis reaches this
        share of its stance speed; toe-off when the toe's falls below it again.
    toe_off_speed_share : toe-off when the toe's backward speed falls below this share of stance speed.
    search_step : look for contact up to this long after the peak.
    stance_from_step, stance_to_step : stance speed is the median over this part of the step
        after the peak.
    band_foot : belt band half-width, as a share of the foot length (heel to toe).
    toe_band_foot : the toe has left the belt when it is this share of the foot length above its level.
    check_foot : at contact the lowest foot point must be within this share of the foot length
        of its stance level (else the height rule decides).
    level_quantile : each foot point's stance level is this low quantile of its height.
    peak_delay_step : contact follows the pelvis-relative peak by this much (swing retraction).
    """

    min_stride_share: float = 0.6
    belt_speed_share: float = 0.5
    toe_off_speed_share: float = 0.5
    search_step: float = 0.5
    stance_from_step: float = 0.25
    stance_to_step: float = 0.55
    band_foot: float = 0.12
    toe_band_foot: float = 0.2
    check_foot: float = 0.6
    level_quantile: float = 0.1
    peak_delay_step: float = 0.12


def _belt_frame(xy: np.ndarray, belt: BeltLine, faces: int) -> tuple[np.ndarray, np.ndarray]:
    """(forward position along the belt, height above the belt) of points (..., 2)."""
    p = np.asarray(xy, float) - np.array([0.0, belt.y_at_x0_px])
    r = rotate_to_belt(p, belt.tilt_deg)
    return faces * r[..., 0], -r[..., 1]


def _crossing(t: np.ndarray, y: np.ndarray, i: int, thr: float) -> float:
    """Time between frames i-1 and i where ``y`` passes ``thr`` (linear)."""
    if i <= 0 or not (np.isfinite(y[i - 1]) and np.isfinite(y[i])) or y[i - 1] == y[i]:
        return float(t[i])
    f = (y[i - 1] - thr) / (y[i - 1] - y[i])
    return float(t[i - 1] + np.clip(f, 0.0, 1.0) * (t[i] - t[i - 1]))


def _extrema(sig: np.ndarray, distance: int, prominence: float) -> np.ndarray:
    """Peaks of ``sig``, including ones near the clip's ends (padded with the minimum).

    The first and last samples never count: a maximum there may still be rising.
    """
    pad = np.concatenate([[sig.min()], sig, [sig.min()]])
    pk, _ = find_peaks(pad, distance=distance, prominence=prominence)
    pk = pk - 1
    return pk[(pk > 0) & (pk < len(sig) - 1)]


@dataclass
class _Foot:
    """Per-foot series on the clip's pictures."""

    fwd: dict          # point -> position ahead of the pelvis along the belt, px
    vel: dict          # point -> its rate of change, px/s
    low: np.ndarray    # lowest of heel/toe above its own stance level, px
    toe: np.ndarray    # toe above its stance level, px


def _foot_series(xy: np.ndarray, t: np.ndarray, side: str, belt: BeltLine, faces: int,
                 pel_fwd: np.ndarray, q: float) -> _Foot:
    fwd, vel, rel = {}, {}, {}
    for p in _POINTS:
        f, h = _belt_frame(xy[:, Landmark[f"{side}_{p}"]], belt, faces)
        fwd[p] = f - pel_fwd
        ok = np.isfinite(fwd[p])
        vel[p] = np.full(len(t), np.nan)
        if ok.sum() >= 3:
            vel[p][ok] = np.gradient(fwd[p][ok], t[ok])
        if p != "ankle":
            fin = h[np.isfinite(h)]
            rel[p] = h - (np.quantile(fin, q) if len(fin) else np.nan)
    return _Foot(fwd, vel, np.fmin(rel["heel"], rel["foot_index"]), rel["foot_index"])


def _stance_speed(ft: _Foot, t: np.ndarray, t_peak: float, step_s: float, opts: EventOptions) -> float:
    """Median backward speed (negative, px/s) of the foot relative to the pelvis in mid-stance."""
    sel = (t >= t_peak + opts.stance_from_step * step_s) & (t <= t_peak + opts.stance_to_step * step_s)
    v = np.concatenate([ft.vel[p][sel] for p in _POINTS])
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else float("nan")


def _speed_contact(ft: _Foot, t: np.ndarray, pk: int, v_st: float, step_s: float,
                   opts: EventOptions) -> float | None:
    """Time the foot's backward speed first reaches ``belt_speed_share`` of ``v_st`` after the peak."""
    thr = opts.belt_speed_share * v_st
    stop = np.searchsorted(t, t[pk] + opts.search_step * step_s, side="right")
    times = []
    for p in _POINTS:
        v = ft.vel[p]
        for i in range(pk + 1, min(stop, len(t))):
            if np.isfinite(v[i]) and v[i] <= thr:
                times.append(_crossing(t, v, i, thr))
                break
    return float(np.median(times)) if len(times) >= 2 else None


def _band_contact(low: np.ndarray, t: np.ndarray, lo: int, hi: int, band: float) -> float | None:
    """Time the lowest foot point first enters the belt band in [lo, hi), after a frame above it."""
    above = False
    for i in range(max(lo, 0), min(hi, len(low))):
        if not np.isfinite(low[i]):
            continue
        if low[i] > band:
            above = True
        elif above:
            return _crossing(t, low, i, band)
    return None


def _toe_off(ft: _Foot, t: np.ndarray, t_ic: float, v_st: float, step_s: float, toe_band: float,
             opts: EventOptions) -> tuple[int, float] | None:
    """(last picture on the belt, toe-off time) after a contact at ``t_ic``, or None.

    The toe rising out of its belt band after mid-stance; failing that, its backward
    speed falling below ``toe_off_speed_share`` of stance speed.
    """
    start = int(np.searchsorted(t, t_ic + opts.stance_from_step * step_s))
    stop = int(np.searchsorted(t, t_ic + 1.2 * step_s))
    ups = [i for i in range(max(start, 1), min(stop, len(t)))
           if np.isfinite(ft.toe[i]) and ft.toe[i] > toe_band and np.isfinite(ft.toe[i - 1]) and ft.toe[i - 1] <= toe_band]
    if ups:
        # a toe hovering at the band's edge crosses it back and forth: take the crossing the clear lift follows
        lifted = np.flatnonzero(ft.toe[ups[0]:] > 2 * toe_band)  # NaN compares False
        i = max(u for u in ups if u <= ups[0] + lifted[0]) if len(lifted) else ups[0]
        return i - 1, _crossing(t, ft.toe, i, toe_band)
    if np.isfinite(v_st) and v_st < 0:
        thr = opts.toe_off_speed_share * v_st
        v = ft.vel["foot_index"]
        for i in range(max(start, 1), min(stop, len(t))):
            if np.isfinite(v[i]) and v[i] > thr and np.isfinite(v[i - 1]) and v[i - 1] <= thr:
                t_to = _crossing(t, v, i, thr)
                return int(np.searchsorted(t, t_to - 1e-9)) - 1, t_to
    return None


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
    tr = track_clean
    if near is None:
        near = _near_side(tr)
    if len(tr) < 5 or not np.isfinite(belt.y_at_x0_px):
        return []
    uniq = np.flatnonzero(~tr.repeated)          # the clip's pictures; repeated frames add nothing
    t = content_times_s(tr.t_s, tr.repeated)[uniq]
    t_pos = frame_times_s(tr)
    xy = tr.xy_px[uniq]
    step_s = step_period_s(xy, t)
    if step_s is None or len(t) < 5:
        return []
    leg_px, foot_px = body_scale_px(xy)
    band = options.band_foot * foot_px
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pelvis = np.nanmean(xy[:, [Landmark.left_hip, Landmark.right_hip]], axis=1)
    pel_fwd, _ = _belt_frame(pelvis, belt, faces)
    min_gap = max(1, int(options.min_stride_share * 2 * step_s / float(np.median(np.diff(t)))))
    out: list[Contact] = []
    for side in SIDES:
        ft = _foot_series(xy, t, side, belt, faces, pel_fwd, options.level_quantile)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sig = np.nanmean(np.stack([ft.fwd["heel"], ft.fwd["ankle"]]), axis=0)
        ok = np.isfinite(sig)
        if ok.sum() < 5:
            continue
        sig = np.interp(np.arange(len(sig)), np.flatnonzero(ok), sig[ok])
        amp = np.quantile(sig, 0.95) - np.quantile(sig, 0.05)
        if amp >= 0.1 * leg_px:
            recs = _fore_aft_windows(ft, t, sig, amp, min_gap, step_s, foot_px, band, options)
        else:  # no fore-aft swing (seen from the front or back): the feet's heights alone
            recs = _height_windows(ft, t, min_gap, step_s, band, leg_px, options)
        for r in recs:
            if r["t"] > t[-1] or r["t"] < t[0]:
                continue
            i = int(min(np.searchsorted(t, r["t"] - 1e-9), len(t) - 1))
            vis = _visibility(tr, side, uniq[max(0, i - 1): i + 2])
            conf = float(np.clip(r["conf"] * (0.5 + 0.5 * vis), 0.0, 1.0))
            to = _toe_off(ft, t, r["t"], r["v_st"], step_s, options.toe_band_foot * foot_px, options)
            to_frame = to_time = None
            if to is not None and 0 <= to[0] < len(uniq):
                to_frame, to_time = int(uniq[to[0]]), float(np.interp(to[1], t_pos, tr.t_s))
            out.append(Contact(side, side == near, int(uniq[i]), float(np.interp(r["t"], t_pos, tr.t_s)),
                               to_frame, to_time, round(conf, 3)))
    return _dedupe(sorted(out, key=lambda c: c.ic_frame), options.min_stride_share * 2 * step_s)


def _fore_aft_windows(ft: _Foot, t: np.ndarray, sig: np.ndarray, amp: float, min_gap: int, step_s: float,
                      foot_px: float, band: float, opts: EventOptions) -> list[dict]:
    """One contact per pelvis-relative peak of the foot (side view)."""
    recs = []
    for pk in _extrema(sig, min_gap, 0.3 * amp):
        v_st = _stance_speed(ft, t, t[pk], step_s, opts)
        t_speed = _speed_contact(ft, t, pk, v_st, step_s, opts) if v_st < 0 else None
        lo = int(np.searchsorted(t, t[pk] - 0.3 * step_s))
        hi = int(np.searchsorted(t, t[pk] + opts.search_step * step_s, side="right"))
        t_band = _band_contact(ft.low, t, lo, hi, band)
        t_zeni = _peak_time(t, sig, pk) + opts.peak_delay_step * step_s
        recs.append(_decide(ft, t, pk, t_zeni, t_speed, t_band, v_st, foot_px, step_s, opts))
    return recs


def _height_windows(ft: _Foot, t: np.ndarray, min_gap: int, step_s: float, band: float, leg_px: float,
                    opts: EventOptions) -> list[dict]:
    """One contact per swing: the foot's highest point, then its first frame in the belt band."""
    low = ft.low
    ok = np.isfinite(low)
    if ok.sum() < 5:
        return []
    h = np.interp(np.arange(len(low)), np.flatnonzero(ok), low[ok])
    if np.ptp(h) < 0.1 * leg_px:
        return []
    recs = []
    for ap in _extrema(h, min_gap, 0.3 * np.ptp(h)):
        hi = int(np.searchsorted(t, t[ap] + step_s, side="right"))
        t_band = _band_contact(low, t, ap, hi, band)
        if t_band is not None:
            recs.append({"pk": int(ap), "v_st": float("nan"), "t": t_band, "conf": 0.4})
    return recs


def _peak_time(t: np.ndarray, sig: np.ndarray, pk: int) -> float:
    """Sub-frame time of a peak by a parabola through it and its neighbours."""
    if pk <= 0 or pk >= len(sig) - 1:
        return float(t[pk])
    a, b, c = sig[pk - 1], sig[pk], sig[pk + 1]
    den = a - 2 * b + c
    frac = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5)) if den < 0 else 0.0
    return float(np.interp(pk + frac, np.arange(len(t)), t))


def _decide(ft: _Foot, t: np.ndarray, pk: int, t_zeni: float, t_speed: float | None, t_band: float | None,
            v_st: float, foot_px: float, step_s: float, opts: EventOptions) -> dict:
    """Contact time of one window and a confidence for it.

    The two timing cues (pelvis peak + delay, speed half-way to stance speed) are
    averaged when the foot is near the belt then; otherwise the height rule decides.
    """
    rec = {"pk": int(pk), "v_st": v_st}
    if t_speed is not None:
        both = 0.5 * (t_speed + t_zeni)
        if _low_near(ft.low, t, both, 0.15 * step_s) <= opts.check_foot * foot_px:
            agree = abs(t_speed - t_zeni) <= 0.15 * step_s
            rec.update(t=both, conf=1.0 if agree else 0.7)
            return rec
    if t_band is not None and abs(t_band - t_zeni) <= opts.search_step * step_s:
        rec.update(t=t_band, conf=0.5)
    elif t_speed is not None:
        rec.update(t=0.5 * (t_speed + t_zeni), conf=0.4)
    else:
        rec.update(t=t_zeni, conf=0.25)
    return rec


def _low_near(low: np.ndarray, t: np.ndarray, t0: float, half_s: float) -> float:
    sel = (t >= t0 - half_s) & (t <= t0 + half_s) & np.isfinite(low)
    return float(np.min(low[sel])) if sel.any() else float("inf")


def _visibility(track: PoseTrack, side: str, rows: np.ndarray) -> float:
    idx = [Landmark[f"{side}_{p}"] for p in _POINTS]
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
