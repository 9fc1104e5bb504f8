"""What the browser player draws, as compact JSON: leg points per frame, strikes, plot signals.

Coordinates are pixels of the upright source picture (x right, y down); the player scales
them to its canvas. Missing values are ``null``.
"""

from __future__ import annotations

import math

import numpy as np

from metrics.landmarks import LEG_POINTS, SIDES, leg

__all__ = ["player_data", "STRIKE_KEYS"]

#: Strike fields the player shows (the rest stay in Python).
STRIKE_KEYS = ("id", "foot", "ic_frame", "toe_off_frame", "ic_time_s", "shin_angle_deg", "knee_flexion_deg",
               "foot_angle_deg", "strike_pattern", "overstride", "overstride_cm", "heel_ahead_px", "confidence",
               "edited", "rejected", "flags", "user")


def _num(v, nd: int = 1):
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return round(f, nd) if math.isfinite(f) else None


def _flat(a: np.ndarray, nd: int = 1) -> list:
    """A float array as a flat list with NaN -> None."""
    a = np.round(np.asarray(a, float).ravel(), nd)
    return [None if not math.isfinite(v) else float(v) for v in a.tolist()]


def player_data(result, proxy: dict, analysis_id: str, title: str = "", frame_offset: int = 0) -> dict:
    """Everything the player needs for one analysis.

    Parameters
    ----------
    result : :class:`metrics.GaitResult` (edited or not).
    proxy : metadata from :func:`ui.app_proxy.make_proxy` (``frames``, ``fps``, ``width``, ``height``).
    analysis_id : keys the browser's remembered frame and overlay switches.
    """
    track = result.track_clean
    n = len(track)
    legs = {}
    for side in SIDES:
        idx = [int(leg(side)[p]) for p in LEG_POINTS]
        legs[side] = _flat(track.xy_px[:, idx, :].reshape(n, -1))
    series = result.series or {}
    foot_h = {side: _flat(series.get("foot_height_px", {}).get(side, np.full(n, np.nan))) for side in SIDES}
    shin = {side: _flat(series.get("shin_angle_deg", {}).get(side, np.full(n, np.nan))) for side in SIDES}
    strikes = []
    for s in result.strikes:
        row = {k: (_num(s.get(k), 3) if isinstance(s.get(k), float) else s.get(k)) for k in STRIKE_KEYS}
        row["flags"] = list(s.get("flags") or [])
        strikes.append(row)
    geom = result.geometry
    px_per_cm = getattr(geom, "px_per_cm", None) if geom is not None else None
    return {
        "id": analysis_id,
        "title": title,
        "n": int(min(n, int(proxy.get("frames", n)))),
        "fps": float(proxy.get("fps") or 30.0),
        "t": _flat(track.t_s, 4),
        "size": [int(track.size[0]), int(track.size[1])],
        "faces": result.runner.get("faces", "right"),
        "near": result.runner.get("near_side"),
        "tilt_deg": _num(result.tilt_deg, 2),
        "belt_y0": _num(getattr(geom, "belt_y_at_x0_px", None), 1) if geom is not None else None,
        "px_per_cm": _num(px_per_cm, 4),
        "legs": legs,
        "foot_height": foot_h,
        "shin": shin,
        "strikes": strikes,
        "time_scale": _num(proxy.get("time_scale", 1.0), 6),
    }
