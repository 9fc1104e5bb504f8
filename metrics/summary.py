"""Clip-level figures from the per-strike records: timing, cadence, per-foot statistics.

Only strikes with ``rejected`` False count. Step, flight and contact times are in
milliseconds; cadence in steps per minute (both feet).

Definitions
-----------
step time
    From the previous kept contact of the *other* foot to this contact. None when the
    previous kept contact is the same foot (a missed or rejected strike in between).
flight time
    From the previous kept contact's toe-off (other foot) to this contact; negative
    when both feet are on the belt at once (walking).
cadence
    60 / mean step time, over the step times within 0.7-1.4 x their median (so a step
    time spanning a missed strike, or a strike given to the wrong foot, cannot pull
    it). The mean inside the band rather than the median itself: contact frames are
    whole frames, and the median of frame-rounded step times is off by up to half a
    frame (1.5 % at 30 fps), while their mean is not. Falls back to 120 / mean stride
    time (same foot, consecutive, same band) when fewer than two step times exist.
    None when no step time is consistent with the others.
asymmetry
    ``asymmetry_pct``: 100 x |L - R| / mean(L, R) of the per-foot means, for times (always
    positive quantities). ``asymmetry_diff``: L - R of the per-foot means, in the measure's
    unit, for angles and overstride (which can be near zero or negative, where a
    percentage means nothing).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PER_FOOT_MEASURES", "TIME_MEASURES", "fill_timing", "cadence_spm", "per_foot_stats",
           "summarize_strikes"]

#: Per-strike measures summarised per foot.
PER_FOOT_MEASURES = (
    "shin_angle_deg", "shin_angle_at_ic_time_deg", "knee_flexion_deg", "foot_angle_deg", "foot_strike_angle_deg",
    "overstride", "overstride_cm", "contact_time_ms", "flight_time_ms", "step_time_ms",
)
#: Measures that are durations (asymmetry as a percentage).
TIME_MEASURES = ("contact_time_ms", "flight_time_ms", "step_time_ms")

#: Step times outside this band around the first median do not count toward cadence.
_STEP_BAND = (0.7, 1.4)


def _kept(strikes: list[dict]) -> list[dict]:
    return sorted((s for s in strikes if not s.get("rejected")), key=lambda s: s["ic_time_s"])


def fill_timing(strikes: list[dict]) -> None:
    """Set ``contact_time_ms``, ``step_time_ms`` and ``flight_time_ms`` on every strike, in place.

    Step and flight times look back to the previous *kept* (not rejected) strike; rejected
    strikes get their neighbours' values too but do not serve as neighbours themselves.

    >>> s = [{"foot": "left", "ic_time_s": 0.0, "toe_off_time_s": 0.2},
    ...      {"foot": "right", "ic_time_s": 0.35, "toe_off_time_s": 0.55}]
    >>> fill_timing(s); round(s[1]["step_time_ms"]), round(s[1]["flight_time_ms"]), round(s[1]["contact_time_ms"])
    (350, 150, 200)
    """
    kept = _kept(strikes)
    times = np.array([s["ic_time_s"] for s in kept])
    for s in strikes:
        to = s.get("toe_off_time_s")
        s["contact_time_ms"] = 1000.0 * (to - s["ic_time_s"]) if to is not None else None
        i = int(np.searchsorted(times, s["ic_time_s"], side="left")) - 1
        prev = kept[i] if i >= 0 else None
        if prev is None or prev["foot"] == s["foot"]:
            s["step_time_ms"] = s["flight_time_ms"] = None
            continue
        s["step_time_ms"] = 1000.0 * (s["ic_time_s"] - prev["ic_time_s"])
        pto = prev.get("toe_off_time_s")
        s["flight_time_ms"] = 1000.0 * (s["ic_time_s"] - pto) if pto is not None else None


def cadence_spm(strikes: list[dict]) -> float | None:
    """Steps per minute from the kept strikes (see module notes). None with too few strikes.

    >>> s = [{"foot": "left" if i % 2 == 0 else "right", "ic_time_s": 0.35 * i} for i in range(8)]
    >>> del s[4]  # a missed strike
    >>> fill_timing(s); round(cadence_spm(s), 1)
    171.4
    """
    kept = _kept(strikes)
    steps = np.array([s["step_time_ms"] for s in kept if s.get("step_time_ms") is not None], float)
    if steps.size >= 2:
        m = np.median(steps)
        steps = steps[(steps >= _STEP_BAND[0] * m) & (steps <= _STEP_BAND[1] * m)]
        return float(60000.0 / np.mean(steps)) if steps.size else None
    strides = []
    for foot in ("left", "right"):
        t = np.array([s["ic_time_s"] for s in kept if s["foot"] == foot])
        strides.extend(np.diff(t).tolist())
    if len(strides) >= 1:
        st = np.array(strides)
        m = np.median(st)
        st = st[(st >= _STEP_BAND[0] * m) & (st <= _STEP_BAND[1] * m)]
        return float(120.0 / np.mean(st)) if st.size else None
    return None


def _stats(values: list) -> dict:
    v = np.array([x for x in values if x is not None], float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": None, "sd": None, "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else None, "n": int(v.size)}


def per_foot_stats(strikes: list[dict], measures=PER_FOOT_MEASURES) -> dict:
    """``{"left": {measure: {"mean", "sd", "n"}}, "right": {...}}`` over kept strikes."""
    kept = _kept(strikes)
    return {foot: {m: _stats([s.get(m) for s in kept if s["foot"] == foot]) for m in measures}
            for foot in ("left", "right")}


def _asymmetry(per_foot: dict) -> tuple[dict, dict]:
    pct, diff = {}, {}
    for m in PER_FOOT_MEASURES:
        a, b = per_foot["left"][m]["mean"], per_foot["right"][m]["mean"]
        if a is None or b is None:
            pct_v = diff_v = None
        else:
            diff_v = a - b
            mean = 0.5 * (a + b)
            pct_v = 100.0 * abs(a - b) / mean if m in TIME_MEASURES and mean > 0 else None
        if m in TIME_MEASURES:
            pct[m] = pct_v
        diff[m] = diff_v
    return pct, diff


def summarize_strikes(strikes: list[dict]) -> dict:
    """Strike-based part of the summary: cadence, per-foot statistics, patterns, asymmetry, counts.

    ``fill_timing`` must have run on ``strikes``.
    """
    kept = _kept(strikes)
    per_foot = per_foot_stats(strikes)
    pct, diff = _asymmetry(per_foot)
    patterns = {"rearfoot": 0, "midfoot": 0, "forefoot": 0}
    for s in kept:
        if s.get("strike_pattern") in patterns:
            patterns[s["strike_pattern"]] += 1
    both = {m: _stats([s.get(m) for s in kept]) for m in PER_FOOT_MEASURES}
    contact = both["contact_time_ms"]["mean"]
    step = both["step_time_ms"]["mean"]
    return {
        "cadence_spm": cadence_spm(strikes),
        "per_foot": per_foot,
        "both_feet": both,
        "strike_pattern_counts": patterns,
        "asymmetry_pct": pct,
        "asymmetry_diff": diff,
        "duty_factor": contact / (2.0 * step) if contact is not None and step else None,
        "usable_strikes": {foot: sum(1 for s in kept if s["foot"] == foot) for foot in ("left", "right")},
        "rejected_strikes": sum(1 for s in strikes if s.get("rejected")),
    }
