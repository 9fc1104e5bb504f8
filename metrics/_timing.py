"""Frame timing helpers: when each picture was taken, uniform grids, the step period.

Private to :mod:`metrics.clean`, :mod:`metrics.belt` and :mod:`metrics.events`.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator
from scipy.signal import find_peaks

from metrics.landmarks import Landmark

__all__ = ["content_times_s", "step_period_s", "fill_nan_1d", "resample", "lower_leg_points"]

#: Unique frames around each one used to re-time a stream with repeated frames.
_RETIME_HALF_WINDOW = 12


def content_times_s(t_s: np.ndarray, repeated: np.ndarray | None) -> np.ndarray:
    """Best estimate of the moment each frame's picture was taken.

    A clip that repeats frames (e.g. 24 fps footage exported at 30 fps by showing
    every fourth picture twice) shows its new pictures at uneven timestamps while
    they were taken evenly. New pictures are re-timed by a local straight-line fit
    of their timestamps against their running count (exact for regular repeats);
    a repeated frame shows the picture before it, so it gets that picture's time.
    Without repeated frames the timestamps are returned unchanged.

    >>> t = np.arange(40) / 30.0                      # 24 fps shown at 30 fps
    >>> step = np.diff(content_times_s(t, np.arange(40) % 5 == 4))
    >>> bool(np.all(step[3::5] == 0)), bool(np.allclose(np.delete(step, np.s_[3::5]), 1 / 24, atol=2e-3))
    (True, True)
    """
    t = np.asarray(t_s, float)
    rep = np.zeros(len(t), bool) if repeated is None else np.asarray(repeated, bool)
    if not rep.any() or rep.all():
        return t.copy()
    uniq = np.flatnonzero(~rep)
    tu = t[uniq]
    fit = np.maximum.accumulate(_running_line_fit(tu, _RETIME_HALF_WINDOW))
    out = np.empty(len(t))
    out[uniq] = fit
    # a repeated frame shows the last new picture (frames before the first new one: its time)
    last = np.maximum.accumulate(np.where(~rep, np.arange(len(t)), -1))
    out[rep] = np.where(last[rep] >= 0, out[np.maximum(last[rep], 0)], fit[0])
    return out


def _running_line_fit(y: np.ndarray, h: int) -> np.ndarray:
    """At each i, the least-squares line through ``y[i-h : i+h+1]`` (against the index, clipped
    at the ends) evaluated at i; ``y[i]`` itself where the window has fewer than 3 points.

    >>> _running_line_fit(np.array([0.0, 1.0, 2.5, 3.0, 4.0]), 1)
    array([0.        , 1.16666667, 2.16666667, 3.16666667, 4.        ])
    """
    y = np.asarray(y, float)
    if len(y) == 0:
        return y.copy()
    win = np.lib.stride_tricks.sliding_window_view(np.pad(y, h, constant_values=np.nan), 2 * h + 1)
    ok = np.isfinite(win)
    x = np.arange(-h, h + 1, dtype=float) * ok  # offsets from i, 0 outside the clip
    yw = np.where(ok, win, 0.0)
    m, sx, sxx = ok.sum(axis=1), x.sum(axis=1), (x * x).sum(axis=1)
    sy, sxy = yw.sum(axis=1), (x * yw).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (m * sxy - sx * sy) / (m * sxx - sx * sx)
        at_i = (sy - slope * sx) / m  # the line at offset 0
    return np.where(m >= 3, at_i, y)


def fill_nan_1d(t: np.ndarray, y: np.ndarray, max_gap_s: float = np.inf) -> np.ndarray:
    """Fill NaN runs of ``y(t)`` shorter than ``max_gap_s`` with a shape-preserving cubic.

    Runs at either end and longer runs stay NaN.
    """
    y = np.asarray(y, float).copy()
    ok = np.isfinite(y)
    if ok.sum() < 2 or ok.all():
        return y
    idx = np.flatnonzero(ok)
    # strictly increasing abscissae for the interpolator
    tt, keep = np.unique(t[idx], return_index=True)
    if len(tt) < 2:
        return y
    f = PchipInterpolator(tt, y[idx][keep], extrapolate=False)
    miss = np.flatnonzero(~ok)
    prev_ok = np.searchsorted(idx, miss) - 1
    inner = (prev_ok >= 0) & (prev_ok + 1 < len(idx))
    if not inner.any():
        return y
    m = miss[inner]
    before, after = idx[prev_ok[inner]], idx[prev_ok[inner] + 1]
    short = (t[after] - t[before]) <= max_gap_s
    y[m[short]] = f(t[m[short]])
    return y


def resample(t_from: np.ndarray, y: np.ndarray, t_to: np.ndarray) -> np.ndarray:
    """Cubic interpolation of ``y`` (first axis along ``t_from``) onto ``t_to``; NaN outside or in gaps."""
    y = np.asarray(y, float)
    flat = y.reshape(len(t_from), -1)
    out = np.full((len(t_to), flat.shape[1]), np.nan)
    for j in range(flat.shape[1]):
        ok = np.isfinite(flat[:, j])
        if ok.sum() < 2:
            continue
        tt, keep = np.unique(t_from[ok], return_index=True)
        if len(tt) < 2:
            continue
        inside = (t_to >= tt[0]) & (t_to <= tt[-1])
        v = np.full(len(t_to), np.nan)
        v[inside] = (CubicSpline(tt, flat[ok, j][keep])(t_to[inside]) if len(tt) >= 4
                     else np.interp(t_to[inside], tt, flat[ok, j][keep]))
        # do not bridge gaps: NaN where the source was NaN on both sides of the target time
        nan_src = (~ok).astype(float)
        v[np.interp(t_to, t_from, nan_src) > 0.5] = np.nan
        out[:, j] = v
    return out.reshape((len(t_to),) + y.shape[1:])


def lower_leg_points(side: str) -> list[int]:
    """Knee, ankle, heel and toe landmark indices of one side (the points that swap)."""
    return [int(Landmark[f"{side}_{p}"]) for p in ("knee", "ankle", "heel", "foot_index")]


def _feet_spread(xy_px: np.ndarray, axis: int) -> np.ndarray:
    """|left - right| along one image axis, averaged over ankle, heel and toe (NaN where unseen)."""
    parts = [np.abs(xy_px[:, Landmark[f"left_{p}"], axis] - xy_px[:, Landmark[f"right_{p}"], axis])
             for p in ("ankle", "heel", "foot_index")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without feet
        return np.nanmean(np.stack(parts), axis=0)


def step_period_s(xy_px: np.ndarray, t_s: np.ndarray, min_step_s: float = 0.15) -> float | None:
    """Step period (time from one foot's contact to the other's) by autocorrelation.

    The signal is the horizontal spread of the two feet, ``|x_left - x_right|`` averaged
    over ankle, heel and toe: it peaks once per step and does not care which foot is
    which, so leg swaps do not disturb it. When the feet hardly move apart horizontally
    (a view from the front or back) their vertical spread is used instead. The period
    is the lag of the highest autocorrelation peak, or the shortest lag dividing it whose
    peak is at least half as high (so a multiple of the period is not chosen). Works in the clip's
    own time units, so a slowed-down clip gives a proportionally longer period.

    Returns None when no periodic motion is found (or the feet move less than a tenth
    of a leg length).
    """
    t = np.asarray(t_s, float)
    if len(t) < 8:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        leg = np.nanmedian(np.linalg.norm(xy_px[:, Landmark.left_hip] - xy_px[:, Landmark.left_ankle], axis=-1))
    for axis in (0, 1):
        spread = _feet_spread(xy_px, axis)
        ok = np.isfinite(spread)
        if ok.sum() < 8:
            return None
        if not np.isfinite(leg) or np.ptp(spread[ok]) >= 0.1 * leg:
            return _period(t[ok], spread[ok], min_step_s)
    return None  # the feet hardly move: not running


def _period(t: np.ndarray, y: np.ndarray, min_step_s: float) -> float | None:
    """Period of ``y(t)`` from its autocorrelation (see :func:`step_period_s`)."""
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    if not dt > 0:
        return None
    grid = np.arange(t[0], t[-1], dt)
    y = np.interp(grid, t, y)
    y = y - y.mean()
    n = len(y)
    if n < 8 or not np.any(y):
        return None
    ac = np.correlate(y, y, mode="full")[n - 1:] / (np.arange(n, 0, -1))
    ac = ac / ac[0]
    max_lag = n // 2
    lo = max(1, int(np.ceil(min_step_s / dt)))
    if max_lag <= lo + 1:
        return None
    # only lags past the first dip below zero: jitter adds small bumps near lag 0
    below = np.flatnonzero(ac[:max_lag] < 0)
    if not len(below):
        return None
    peaks, _ = find_peaks(ac[:max_lag], prominence=0.1)
    peaks = peaks[(peaks >= lo) & (peaks > below[0])]
    if not len(peaks):
        return None
    best = peaks[np.argmax(ac[peaks])]
    if ac[best] < 0.2:
        return None
    # the shortest lag that divides the best one and correlates at least half as well: when
    # every other step looks different (one foot tracked worse) the stride lag wins on height
    k = np.maximum(np.round(best / peaks), 1)
    good = peaks[(ac[peaks] >= 0.5 * ac[best]) & (np.abs(peaks * k - best) <= 0.1 * best)]
    lag = int(good[0])
    # parabolic refinement of the peak
    if 0 < lag < len(ac) - 1:
        a, b, c = ac[lag - 1], ac[lag], ac[lag + 1]
        den = a - 2 * b + c
        frac = 0.5 * (a - c) / den if den != 0 else 0.0
    else:
        frac = 0.0
    return float((lag + np.clip(frac, -0.5, 0.5)) * dt)
