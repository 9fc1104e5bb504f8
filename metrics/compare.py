"""Two sessions of one runner side by side: which measures changed, by more than chance and error?

Gait retraining is judged across visits, so the question for each per-foot measure is whether
the change from the earlier session is real. Two things can fake a change:

* strike-to-strike scatter: each session's mean comes from a handful of strikes. The 95 %
  confidence interval of the change (Welch's t interval, which does not assume equal scatter
  in both sessions) says how far the means could move by chance;
* re-measurement error: filming and marking the same runner again moves an angle even when
  nothing changed. For the tibia (shin) angle at contact clinicians disagree by up to
  2.2-4.8 deg, for foot inclination by up to 1.3-2.3 deg (Dingenen 2018). The upper bounds
  are in :data:`REMEASUREMENT_ERROR`.

Verdicts (:func:`compare_sessions`)
-----------------------------------
``changed``          the interval excludes zero and the change is larger than the
                     re-measurement error (where one is known)
``within error``     the interval excludes zero, but the change is within the re-measurement
                     error: it may be the filming, not the runner
``no clear change``  the interval includes zero
``too few strikes``  fewer than :data:`MIN_STRIKES` kept strikes of that foot in a session

Only kept strikes (``rejected`` False) count, as in the summary. Pure numpy/scipy: the
caller passes each session's strikes (``analysis.json``'s ``strikes``).

>>> a = [{"foot": "left", "shin_angle_deg": v} for v in (9.0, 10.0, 11.0, 10.0)]
>>> b = [{"foot": "left", "shin_angle_deg": v} for v in (3.0, 4.0, 5.0, 4.0)]
>>> row = compare_sessions(a, b, measures=("shin_angle_deg",))[0]
>>> row.foot, row.change, row.verdict
('left', -6.0, 'changed')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Change", "compare_sessions", "describe_shin_change", "session_notes", "COMPARED_MEASURES",
           "REMEASUREMENT_ERROR", "MIN_STRIKES"]

#: Per-foot measures compared between sessions, in display order.
COMPARED_MEASURES = ("shin_angle_deg", "overstride", "overstride_cm", "knee_flexion_deg", "foot_angle_deg",
                     "contact_time_ms", "step_time_ms")
#: Upper bound of clinicians' re-measurement error (smallest detectable difference), in the
#: measure's unit: tibia angle 2.2-4.8 deg, foot inclination 1.3-2.3 deg (Dingenen 2018).
REMEASUREMENT_ERROR = {"shin_angle_deg": 4.8, "foot_angle_deg": 2.3}
#: Fewer kept strikes of a foot than this in either session gives no verdict.
MIN_STRIKES = 3
#: Confidence level of the interval of the change.
LEVEL = 0.95


@dataclass(frozen=True)
class Change:
    """One measure of one foot, earlier session against this one (``change`` = this - earlier)."""

    measure: str
    foot: str
    before_mean: float | None
    before_sd: float | None
    before_n: int
    after_mean: float | None
    after_sd: float | None
    after_n: int
    change: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str


def _values(strikes: list[dict], foot: str, measure: str) -> np.ndarray:
    v = np.array([s.get(measure) for s in strikes if s.get("foot") == foot and not s.get("rejected")
                  and s.get(measure) is not None], float)
    return v[np.isfinite(v)]


def _welch_interval(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float]:
    """Interval of mean(b) - mean(a) with unequal variances (Welch-Satterthwaite degrees of freedom)."""
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = float(np.sqrt(va + vb))
    d = float(b.mean() - a.mean())
    if se == 0.0:
        return d, d
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return d - half, d + half


def _row(measure: str, foot: str, a: np.ndarray, b: np.ndarray, level: float) -> Change:
    def mean(v):
        return float(v.mean()) if v.size else None

    def sd(v):
        return float(v.std(ddof=1)) if v.size > 1 else None

    change = float(b.mean() - a.mean()) if a.size and b.size else None
    lo = hi = None
    if a.size < MIN_STRIKES or b.size < MIN_STRIKES:
        verdict = "too few strikes"
    else:
        lo, hi = _welch_interval(a, b, level)
        if lo <= 0.0 <= hi:
            verdict = "no clear change"
        elif abs(change) <= REMEASUREMENT_ERROR.get(measure, 0.0):
            verdict = "within error"
        else:
            verdict = "changed"
    return Change(measure, foot, mean(a), sd(a), int(a.size), mean(b), sd(b), int(b.size), change, lo, hi, verdict)


def compare_sessions(before: list[dict], after: list[dict], measures=COMPARED_MEASURES,
                     level: float = LEVEL) -> list[Change]:
    """Per foot and measure, the change from the ``before`` session's strikes to the ``after`` one's.

    Rows come measure by measure (in ``measures`` order), left foot then right; a measure
    neither session has for a foot is left out.
    """
    rows = []
    for m in measures:
        for foot in ("left", "right"):
            a, b = _values(before, foot, m), _values(after, foot, m)
            if a.size or b.size:
                rows.append(_row(m, foot, a, b, level))
    return rows


def describe_shin_change(row: Change) -> str | None:
    """One plain sentence on a shin-angle row (None for other measures or a foot with no change)."""
    if row.measure != "shin_angle_deg" or row.change is None:
        return None
    err = REMEASUREMENT_ERROR["shin_angle_deg"]
    head = (f"{row.foot.capitalize()} shin angle at contact: {row.before_mean:.1f}° → {row.after_mean:.1f}° "
            f"({row.change:+.1f}°")
    if row.verdict == "too few strikes":
        return head + f"); too few strikes to judge (at least {MIN_STRIKES} a session, 7 or more is better)."
    span = f", 95 % interval {row.ci_low:+.1f} to {row.ci_high:+.1f}°)"
    if row.verdict == "no clear change":
        return head + span + ": no clear change (the interval includes zero)."
    if row.verdict == "within error":
        return head + span + (f": the strikes differ, but by no more than clinicians' re-measurement error of this "
                              f"angle (up to {err}°).")
    way = "more vertical" if abs(row.after_mean) < abs(row.before_mean) else "less vertical"
    return head + span + f": the shin lands {way}, by more than the re-measurement error (up to {err}°)."


def session_notes(before_doc: dict, after_doc: dict) -> list[str]:
    """What, besides the runner, differs between two analyses (``analysis.json`` documents)."""
    notes = []
    models = [(d.get("options") or {}).get("model") for d in (before_doc, after_doc)]
    if all(models) and models[0] != models[1]:
        notes.append(f"The sessions were analysed with different pose models ({models[0]} and {models[1]}); analyse "
                     "both with the same model before comparing angles.")
    fps = [(d.get("video") or {}).get("capture_fps") for d in (before_doc, after_doc)]
    if all(fps) and abs(fps[0] - fps[1]) > 0.05 * max(fps):
        notes.append(f"The clips were filmed at different frame rates ({fps[0]:.0f} and {fps[1]:.0f} fps): contact "
                     "times and angles read at contact are less precise at the lower rate.")
    near = [(d.get("runner") or {}).get("near_side") for d in (before_doc, after_doc)]
    if all(near) and near[0] != near[1]:
        notes.append("The camera filmed the runner from the other side this time; each leg's angles come from the "
                     "near leg in one session and the far leg in the other, which the pose model sees less well.")
    return notes
