"""Entry point of the gait measures: ``analyze_gait(track, options) -> GaitResult``.

Pose track -> cleaned track (leg swaps, outliers) -> direction of travel, near side,
belt line -> contacts (initial contact and toe-off of each foot; a leg relabelling that
breaks the rhythm of the contacts is undone) -> measures at each contact -> clip summary
and plain-English warnings.

Every per-strike value and the summary are rebuilt from ``track_clean`` and the
contact list by :func:`rebuild`, which :func:`metrics.edits.apply_edits` also uses,
so a person's corrections recompute everything at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from metrics import kinematics as kin
from metrics.belt import BeltLine, estimate_belt
from metrics.clean import CleanOptions, clean_track, direction_of_travel, near_side
from metrics.conventions import faces_name
from metrics.errors import InputError
from metrics.events import detect_contacts
from metrics.landmarks import SIDES
from metrics.schema import STRIKE_FIELDS
from metrics.summary import fill_timing, summarize_strikes
from metrics.track import PoseTrack

__all__ = ["GaitOptions", "GaitResult", "analyze_gait", "rebuild", "strike_id"]

#: Measures withheld (None) when the clip is not a side view.
_ANGLE_FIELDS = ("shin_angle_deg", "shin_angle_at_ic_time_deg", "knee_flexion_deg", "foot_angle_deg",
                 "foot_angle_at_ic_time_deg", "foot_strike_angle_deg", "strike_pattern", "heel_ahead_px", "overstride", "overstride_cm")


@dataclass(frozen=True)
class GaitOptions:
    """Settings of the gait measures.

    Attributes
    ----------
    runner_height_cm : standing height; gives centimetres (overstride, vertical oscillation).
    belt_tilt_deg : the belt's angle in the picture, overriding the estimate.
    belt_line_px : two points ``((x0, y0), (x1, y1))`` on the belt drawn by the user; overrides
        both the estimate and ``belt_tilt_deg``.
    min_confidence : strikes below this confidence are rejected (kept, flagged, out of the summary).
    min_strikes_per_foot : fewer usable strikes than this on a foot gives a warning (Dingenen
        2018: average at least 7 steps).
    tilt_warn_deg : warn when the belt line is tilted more than this.
    outlier_shin_deg, outlier_overstride : a strike whose shin angle (overstride) is further than
        this, and than 4 robust SDs, from its foot's median is rejected as an outlier.
    cadence_check_tol : warn when the cadence from the contacts and the step period of the clip's
        leg motion (autocorrelation, :func:`metrics.clean.clean_track`) differ by more than this share.
    walking_double_support : warn "walking" when both feet are on the belt together in more than
        this share of frames (running: none; walking: 0.2 and more), or when the median flight
        time is negative.
    """

    runner_height_cm: float | None = None
    belt_tilt_deg: float | None = None
    belt_line_px: tuple | None = None
    min_confidence: float = 0.4
    min_strikes_per_foot: int = 7
    tilt_warn_deg: float = 3.0
    outlier_shin_deg: float = 12.0
    outlier_overstride: float = 0.2
    cadence_check_tol: float = 0.04
    walking_double_support: float = 0.15


@dataclass
class GaitResult:
    """Everything the measures produced for one clip.

    Attributes
    ----------
    runner : ``{"faces": "left"|"right", "near_side": "left"|"right"}``.
    strikes : one dict per contact, time order: every :data:`metrics.schema.STRIKE_FIELDS` key and
        ``id``, ``ic_time_s``, ``toe_off_time_s``, ``step_time_ms``, ``flight_time_ms``,
        ``shin_angle_at_ic_time_deg``, ``foot_strike_angle_deg``, ``heel_ahead_px``,
        ``overstride_cm``, ``event_confidence``, ``visibility``, ``flags`` (list of str).
    summary : clip figures (see :mod:`metrics.summary`) plus ``trunk_lean_deg``,
        ``vertical_oscillation`` (/ leg length), ``vertical_oscillation_cm``, ``leg_length_px``,
        ``double_support_share``, ``belt``, ``view``, ``clean`` (the cleaning report).
    track_clean : the track every measure was computed from.
    tilt_deg : belt line angle in the picture.
    warnings : plain-English sentences for the user.
    series : per-frame arrays for plots: ``t_s``, ``foot_height_px`` / ``shin_angle_deg`` /
        ``knee_flexion_deg`` (dicts by side), ``pelvis_height_px``, ``trunk_lean_deg``.
    geometry : camera geometry and body scale (:class:`metrics.kinematics.Geometry`).
    detected : contacts as detected, before any edit (what edits replay onto).
    edits : the edits applied to ``detected`` to give ``strikes``.
    options : the options used.
    clip_warnings : warnings that do not depend on the strikes (view, tilt, cleaning).
    """

    runner: dict
    strikes: list[dict]
    summary: dict
    track_clean: PoseTrack
    tilt_deg: float = 0.0
    warnings: list[str] = field(default_factory=list)
    series: dict = field(default_factory=dict)
    geometry: kin.Geometry | None = None
    detected: list[dict] = field(default_factory=list)
    edits: tuple = ()
    options: GaitOptions = field(default_factory=GaitOptions)
    clip_warnings: list[str] = field(default_factory=list)


def strike_id(foot: str, ic_frame: int) -> str:
    """Stable id of a detected strike: side letter and contact frame, e.g. ``'L123'``."""
    return f"{foot[0].upper()}{int(ic_frame)}"


def _resolve_belt(track: PoseTrack, faces: int, options: GaitOptions) -> BeltLine:
    """The belt line: the user's line, else the estimate with the user's tilt, else the estimate."""
    if options.belt_line_px is not None:
        (x0, y0), (x1, y1) = options.belt_line_px
        if x1 == x0:
            raise InputError("The belt reference line is vertical; draw it along the belt.")
        slope = (y1 - y0) / (x1 - x0)
        return BeltLine(float(np.rad2deg(np.arctan(slope))), float(y0 - slope * x0), 0.0, "user line")
    est = estimate_belt(track, faces)
    if options.belt_tilt_deg is None:
        return est
    cx = 0.5 * track.size[0]
    y_c = est.y_at_x0_px + np.tan(np.deg2rad(est.tilt_deg)) * cx
    tilt = float(options.belt_tilt_deg)
    return BeltLine(tilt, float(y_c - np.tan(np.deg2rad(tilt)) * cx), est.residual_px, "option")


def _contact_dict(c) -> dict:
    return {
        "id": strike_id(c.foot, c.ic_frame), "foot": c.foot, "near": bool(c.near),
        "ic_frame": int(c.ic_frame), "ic_time_s": float(c.ic_time_s),
        "toe_off_frame": None if c.toe_off_frame is None else int(c.toe_off_frame),
        "toe_off_time_s": None if c.toe_off_time_s is None else float(c.toe_off_time_s),
        "event_confidence": float(c.confidence), "edited": False, "user": None,
    }


def _series(track: PoseTrack, geom: kin.Geometry) -> dict:
    out = {"t_s": track.t_s, "foot_height_px": {}, "shin_angle_deg": {}, "knee_flexion_deg": {}}
    for side in SIDES:
        ang = kin.angle_series(track, side, geom)
        out["foot_height_px"][side] = kin.foot_height_px(track, side, geom)
        out["shin_angle_deg"][side] = ang["shin"]
        out["knee_flexion_deg"][side] = ang["knee_flexion"]
    out["pelvis_height_px"] = kin.pelvis_height_px(track, geom)
    out["trunk_lean_deg"] = kin.trunk_lean_series_deg(track, geom)
    return out


def analyze_gait(track: PoseTrack, options: GaitOptions = GaitOptions()) -> GaitResult:
    """Contacts and measures of one clip.

    Parameters
    ----------
    track : raw pose track from the pose model.
    options : see :class:`GaitOptions`.
    """
    faces = direction_of_travel(track)
    clean, clean_report, near, belt, geom, view, contacts = _keep_rhythm(track, faces, options)
    detected = sorted((_contact_dict(c) for c in contacts), key=lambda c: c["ic_time_s"])
    clip_warnings = _clip_warnings(belt, view, clean_report, options)
    base = GaitResult(
        runner={"faces": faces_name(faces), "near_side": near}, strikes=[],
        summary={"belt": dataclasses.asdict(belt), "view": view, "clean": clean_report},
        track_clean=clean, tilt_deg=float(belt.tilt_deg), geometry=geom, detected=detected,
        options=options, clip_warnings=clip_warnings, series=_series(clean, geom),
    )
    return rebuild(base, [dict(c) for c in detected], ())


class _Found(NamedTuple):
    clean: PoseTrack
    clean_report: dict
    near: str
    belt: BeltLine
    geom: kin.Geometry
    view: dict
    contacts: list


def _contacts_of(track: PoseTrack, faces: int, options: GaitOptions, keep: tuple[tuple[int, int], ...] = ()) -> _Found:
    """Cleaned track, its report, near side, belt, geometry, view check and contacts."""
    clean, clean_report = clean_track(track, faces, CleanOptions(keep_labels=keep))
    near = near_side(clean, faces)
    belt = _resolve_belt(clean, faces, options)
    leg_len = kin.leg_length_px(clean)
    geom = kin.Geometry(faces, float(belt.tilt_deg), float(belt.y_at_x0_px), leg_len,
                        kin.px_per_cm(leg_len, options.runner_height_cm))
    view = kin.view_check(clean, geom)
    return _Found(clean, clean_report, near, belt, geom, view, detect_contacts(clean, faces, belt, near=near))


#: A step (contact to next contact) this far from the clip's median step breaks the rhythm.
_STEP_OFF_SHARE = 0.3


def _rhythm_breaks(contacts: list) -> list[tuple[int, int, bool]]:
    """``(first frame, next frame, same foot)`` of each pair of successive contacts that break
    the running rhythm: the same foot twice, or a step more than :data:`_STEP_OFF_SHARE` off
    the median step."""
    cs = sorted(contacts, key=lambda c: c.ic_time_s)
    if len(cs) < 3:
        return []
    d = np.diff([c.ic_time_s for c in cs])
    med = float(np.median(d))
    return [(a.ic_frame, b.ic_frame, a.foot == b.foot) for a, b, dt in zip(cs, cs[1:], d)
            if a.foot == b.foot or abs(dt - med) > _STEP_OFF_SHARE * med]


def _rhythm_score(breaks: list[tuple[int, int, bool]]) -> tuple[int, int]:
    """(same-foot pairs, off-rhythm steps) of :func:`_rhythm_breaks`: lower is more regular."""
    return sum(same for *_, same in breaks), sum(not same for *_, same in breaks)


#: Longest relabelled runs tried for :func:`_keep_rhythm`, and their shortest length (frames).
_RHYTHM_TRIES, _RHYTHM_MIN_RUN = 4, 3


def _near(run: tuple[int, int], breaks: list[tuple[int, int, bool]], step_frames: float) -> bool:
    """Whether a rhythm break lies within a step of the run's frames."""
    return any(a <= run[1] + step_frames and b >= run[0] - step_frames for a, b, _ in breaks)


def _keep_rhythm(track: PoseTrack, faces: int, options: GaitOptions) -> _Found:
    """:func:`_contacts_of`, with relabellings undone where they break the running rhythm.

    The swap search (:mod:`metrics._swaps`) relabels a run of frames on the evidence at its
    two ends only: inside a run, keeping or swapping the labels is equally continuous. Two
    nearby glitches can therefore flip a whole stretch of correct labels. The contacts around
    it then break the rhythm of running: one foot lands twice in a row, or a contact moves
    and the steps around it turn uneven. Where they do, the longest relabelled runs near a
    break are tried one at a time with the model's own labels, and a run is left as the model
    labelled it when that makes the rhythm more regular (fewer same-foot pairs, then fewer
    uneven steps) while losing at most one contact (a spurious one) per run kept.
    """
    found = _contacts_of(track, faces, options)
    breaks = _rhythm_breaks(found.contacts)
    score = _rhythm_score(breaks)
    if not breaks:
        return found
    step_frames = float(np.median(np.diff(sorted(c.ic_frame for c in found.contacts))))
    runs = [tuple(r) for r in found.clean_report.get("relabelled_runs", [])
            if r[1] - r[0] + 1 >= _RHYTHM_MIN_RUN and _near(r, breaks, step_frames)]
    keep: tuple[tuple[int, int], ...] = ()
    for run in sorted(runs, key=lambda r: r[0] - r[1])[:_RHYTHM_TRIES]:  # longest first
        if score == (0, 0):
            break
        trial = _contacts_of(track, faces, options, keep + (run,))
        trial_score = _rhythm_score(_rhythm_breaks(trial.contacts))
        # a more regular rhythm may drop one spurious contact, not the contacts themselves
        if len(trial.contacts) >= max(3, len(found.contacts) - 1) and trial_score < score:
            found, score, keep = trial, trial_score, keep + (run,)
    return found


def _clip_warnings(belt: BeltLine, view: dict, clean_report: dict, options: GaitOptions) -> list[str]:
    out = []
    if abs(belt.tilt_deg) > options.tilt_warn_deg:
        out.append(
            f"The camera is not level: the belt runs at {belt.tilt_deg:+.1f} deg in the picture. Angles are "
            "measured against the belt, but level the camera next time for the most reliable figures."
        )
    if not view["side_view"]:
        out.append(
            "This does not look like a side view (the hips and shoulders are wide apart across the picture, or "
            "the feet hardly move forward and back), so no angles or overstride are given. Film the runner "
            "side-on, camera at hip height, square to the treadmill."
        )
    for msg in clean_report.get("warnings", []) if isinstance(clean_report, dict) else []:
        out.append(str(msg))
    return out


def _outliers(strikes: list[dict], key: str, min_dev: float) -> set[str]:
    """Ids of strikes whose ``key`` is more than max(min_dev, 4 robust SD) from their foot's median."""
    out = set()
    for foot in SIDES:
        group = [s for s in strikes if s["foot"] == foot and s.get(key) is not None and not s.get("_low")]
        if len(group) < 4:
            continue
        v = np.array([s[key] for s in group])
        med = np.median(v)
        mad = 1.4826 * np.median(np.abs(v - med))
        lim = max(min_dev, 4.0 * mad)
        out.update(s["id"] for s in group if abs(s[key] - med) > lim)
    return out


def _strike_record(c: dict, track: PoseTrack, geom: kin.Geometry, side_view: bool) -> dict:
    m = kin.strike_measures(track, c["foot"], c["ic_frame"], c["ic_time_s"], geom)
    if not side_view:
        m.update({k: None for k in _ANGLE_FIELDS})
    conf = float(np.sqrt(max(c["event_confidence"], 0.0) * m["visibility"]))
    rec = {k: None for k in STRIKE_FIELDS}
    rec.update({k: c[k] for k in ("foot", "near", "ic_frame", "ic_time_s", "toe_off_frame", "edited")})
    rec.update(m)
    rec.update({"id": c["id"], "toe_off_time_s": c["toe_off_time_s"], "event_confidence": c["event_confidence"],
                "confidence": conf, "rejected": False, "flags": [] if side_view else ["not_side_view"]})
    return rec


def rebuild(result: GaitResult, contacts: list[dict], edits: tuple, notes: list[str] = ()) -> GaitResult:
    """Recompute every strike measure, the summary and the warnings from ``contacts``.

    ``contacts`` are dicts as in ``result.detected`` (possibly edited: ``edited`` True and
    ``user`` one of None, ``'rejected'``, ``'restored'``, ``'added'``, ``'moved'``). Returns a new result; ``result``
    is not changed.
    """
    opts, track, geom0 = result.options, result.track_clean, result.geometry
    side_view = result.summary.get("view", {}).get("side_view", True)
    flat = {side: kin.foot_flat_deg(track, side, [(c["ic_frame"], c["toe_off_frame"]) for c in contacts
                                                  if c["foot"] == side], geom0) for side in SIDES}
    geom = dataclasses.replace(geom0, foot_flat_deg=flat)
    strikes = sorted((_strike_record(c, track, geom, side_view) for c in contacts), key=lambda s: s["ic_time_s"])
    for s in strikes:
        if s["confidence"] < opts.min_confidence:
            s["flags"].append("low_confidence")
            s["_low"] = True
        elif side_view and s["shin_angle_deg"] is None:
            s["flags"].append("landmarks_missing")
            s["_low"] = True
    outl = _outliers(strikes, "shin_angle_deg", opts.outlier_shin_deg)
    outl |= _outliers(strikes, "overstride", opts.outlier_overstride)
    user = {c["id"]: c.get("user") for c in contacts}
    for s in strikes:
        if s["id"] in outl:
            s["flags"].append("outlier")
        s["rejected"] = bool(s.pop("_low", False) or s["id"] in outl)
        if user.get(s["id"]) == "rejected":
            s["rejected"] = True
            s["flags"].append("rejected_by_user")
        elif user.get(s["id"]) in ("restored", "added", "moved"):
            s["rejected"] = False
            s["flags"].append(f"{user[s['id']]}_by_user")
    fill_timing(strikes)
    summary = {**result.summary, **summarize_strikes(strikes)}
    summary.update(_clip_figures(track, geom, strikes))
    warnings = list(result.clip_warnings) + list(notes) + _strike_warnings(strikes, summary, opts)
    return dataclasses.replace(result, strikes=strikes, summary=summary, warnings=warnings, geometry=geom,
                               edits=tuple(edits))


def _clip_figures(track: PoseTrack, geom: kin.Geometry, strikes: list[dict]) -> dict:
    kept = [s["ic_frame"] for s in strikes if not s["rejected"]]
    vo_px = kin.vertical_oscillation_px(kin.pelvis_height_px(track, geom), kept)
    heights = {side: kin.foot_height_px(track, side, geom) for side in SIDES}
    lean = kin.trunk_lean_series_deg(track, geom)
    lean = lean[np.isfinite(lean)]
    ll = geom.leg_length_px
    return {
        "trunk_lean_deg": float(np.median(lean)) if lean.size else None,
        "vertical_oscillation": vo_px / ll if vo_px is not None and np.isfinite(ll) else None,
        "vertical_oscillation_cm": vo_px / geom.px_per_cm if vo_px is not None and geom.px_per_cm else None,
        "vertical_oscillation_px": vo_px,
        "leg_length_px": ll if np.isfinite(ll) else None,
        "px_per_cm": geom.px_per_cm,
        "tilt_deg": geom.tilt_deg,
        "double_support_share": kin.double_support_share(heights, ll),
    }


def _strike_warnings(strikes: list[dict], summary: dict, opts: GaitOptions) -> list[str]:
    out = []
    if not strikes:
        return ["No foot contacts were found. Check that the whole runner, feet included, is in the picture."]
    n = summary["usable_strikes"]
    low = [f"{foot} {n[foot]}" for foot in SIDES if n[foot] < opts.min_strikes_per_foot]
    if low:
        out.append(
            f"Few usable strikes ({', '.join(low)}); clinical guidance is to average at least "
            f"{opts.min_strikes_per_foot} per foot. Film a longer clip (15-20 s of steady running)."
        )
    auto = [s for s in strikes if s["rejected"] and "rejected_by_user" not in s["flags"]]
    if auto:
        out.append(
            f"{len(auto)} of {len(strikes)} strikes were left out of the summary for low confidence or as "
            "outliers; check them in the review and restore the good ones."
        )
    cad, step_s = summary.get("cadence_spm"), summary.get("clean", {}).get("step_s")
    if cad and step_s and abs(cad * step_s / 60.0 - 1.0) > opts.cadence_check_tol:
        out.append(
            f"The cadence from the contacts ({cad:.0f} steps/min) differs from the rhythm of the leg motion "
            f"({60.0 / step_s:.0f} steps/min): some contacts may be missing or misplaced; check the strikes."
        )
    flights = [s["flight_time_ms"] for s in strikes if not s["rejected"] and s.get("flight_time_ms") is not None]
    double = summary.get("double_support_share")
    if (flights and np.median(flights) < 0) or (double is not None and double > opts.walking_double_support):
        out.append(
            "No flight phase: one foot lands before the other leaves the belt. This looks like walking; "
            "the running measures may not apply."
        )
    return out
