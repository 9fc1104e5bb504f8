"""Cleaning a raw pose track: leg identity, outliers, gaps, zero-lag low-pass.

``clean_track(track, faces) -> (clean, report)`` runs, in order:

1. Repeated frames (``track.repeated``) are set missing: they show the previous
   picture again and say nothing about motion at their own timestamp.
2. Legs in poses no runner takes (a shank of the wrong length, or reaching forward
   above the knee: the model followed a handrail) are set missing.
3. Leg swaps are repaired so each foot keeps its identity (see :mod:`metrics._swaps`).
4. Outliers are rejected with a Hampel filter (running median over two fifths of a
   step, threshold ``outlier_sigmas`` robust standard deviations and at least
   ``outlier_min_leg`` leg lengths).
5. Brief merges, where the model draws both feet on one spot, blank the wrong leg.
6. Gaps up to ``max_gap_s`` are filled with a shape-preserving cubic in time.
7. A zero-lag Butterworth low-pass (``filtfilt``) on a uniform time grid, then
   sampled back at each frame.

Time constants follow the clip's own motion: with ``cutoff_hz`` / ``max_gap_s`` left
at None they are set from the step period found by autocorrelation, so slowed-down
playback whose capture rate is unknown is filtered like a real-time clip.
Positions of a frame are those of its picture: frames of a clip that repeats
pictures are re-timed to when they were taken (:func:`metrics._timing.content_times_s`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import butter, filtfilt

from metrics._swaps import remove_implausible_legs, remove_merges, repair_swaps
from metrics._timing import content_times_s, fill_nan_1d, lower_leg_points, resample, step_period_s
from metrics.landmarks import Landmark, SIDES
from metrics.track import PoseTrack

__all__ = ["CleanOptions", "clean_track", "direction_of_travel", "near_side", "frame_times_s", "body_scale_px"]

#: Step period assumed when the clip shows no periodic motion (170 steps/min).
_DEFAULT_STEP_S = 60.0 / 170.0


@dataclass(frozen=True)
class CleanOptions:
    """Parameters of :func:`clean_track`.

    Attributes
    ----------
    cutoff_hz : low-pass cutoff in Hz of the clip's clock; None = ``cutoff_per_stride``
        times the stride frequency found in the clip (7 Hz at 170 steps/min).
    cutoff_per_stride : cutoff as a multiple of the stride frequency when ``cutoff_hz`` is None.
    foot_cutoff_per_stride : the same for knee, ankle, heel and toe, which change
        direction sharply at contact and so keep more bandwidth.
    max_gap_s : longest gap filled; None = ``max_gap_steps`` step periods.
    max_gap_steps : see ``max_gap_s``.
    outlier_sigmas : Hampel threshold in robust standard deviations.
    outlier_min_leg : a point must also be this share of the leg length off the running median.
    merge_foot_share : feet whose points lie this close (share of foot length) are "merged".
    repair_swaps : relabel leg swaps.
    keep_labels : ``(first, last)`` frame runs of an earlier report's ``relabelled_runs`` to
        leave as the pose model labelled them (see :func:`metrics.gait.analyze_gait`).
    filter_order : Butterworth order (doubled by the forward-backward pass).
    """

    cutoff_hz: float | None = None
    cutoff_per_stride: float = 5.0
    foot_cutoff_per_stride: float = 8.0
    max_gap_s: float | None = None
    max_gap_steps: float = 0.6
    outlier_sigmas: float = 5.0
    outlier_min_leg: float = 0.08
    merge_foot_share: float = 0.5
    repair_swaps: bool = True
    keep_labels: tuple[tuple[int, int], ...] = ()
    filter_order: int = 2


def body_scale_px(xy_px: np.ndarray) -> tuple[float, float]:
    """(leg length, foot length) in pixels: medians over the clip of hip-knee + knee-ankle and heel-toe."""
    legs, feet = [], []
    for s in SIDES:
        hip, knee, ankle = (xy_px[:, Landmark[f"{s}_{p}"]] for p in ("hip", "knee", "ankle"))
        heel, toe = xy_px[:, Landmark[f"{s}_heel"]], xy_px[:, Landmark[f"{s}_foot_index"]]
        legs.append(np.linalg.norm(hip - knee, axis=1) + np.linalg.norm(knee - ankle, axis=1))
        feet.append(np.linalg.norm(toe - heel, axis=1))
    leg = np.concatenate(legs)
    foot = np.concatenate(feet)
    leg_px = float(np.nanmedian(leg)) if np.isfinite(leg).any() else float("nan")
    foot_px = float(np.nanmedian(foot)) if np.isfinite(foot).any() else float("nan")
    if not np.isfinite(foot_px) or foot_px <= 0:
        foot_px = 0.3 * leg_px
    return leg_px, foot_px


def frame_times_s(track: PoseTrack) -> np.ndarray:
    """Time each cleaned frame's positions refer to: its picture's time, or its own
    timestamp for a repeated frame (whose positions are interpolated)."""
    tc = content_times_s(track.t_s, track.repeated)
    if not track.repeated.any():
        return tc
    out = tc.copy()
    rep = track.repeated
    out[rep] = track.t_s[rep]
    # keep the order: a repeated frame sits between the pictures around it
    nxt = np.minimum.accumulate(np.where(~rep, tc, np.inf)[::-1])[::-1]
    prv = np.maximum.accumulate(np.where(~rep, tc, -np.inf))
    out[rep] = np.clip(out[rep], prv[rep], np.where(np.isfinite(nxt[rep]), nxt[rep], np.inf))
    return out


def _nanmedian_last_axis(a: np.ndarray) -> np.ndarray:
    """``np.nanmedian(a, axis=-1)``, the same numbers, several times faster on many short rows
    (NumPy takes a masked-array path for them).

    >>> _nanmedian_last_axis(np.array([[3.0, np.nan, 1.0, 2.0], [np.nan, 4.0, 1.0, np.nan], [np.nan] * 4]))
    array([2. , 2.5, nan])
    """
    s = np.sort(a, axis=-1)  # NaN last
    n = np.isfinite(a).sum(axis=-1)
    lo = np.take_along_axis(s, np.maximum((n - 1) // 2, 0)[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(s, np.maximum(n // 2, 0)[..., None], axis=-1)[..., 0]
    return np.where(n > 0, (lo + hi) / 2.0, np.nan)


def _hampel(xy: np.ndarray, t: np.ndarray, half_window_s: float, sigmas: float, min_px: float) -> np.ndarray:
    """Mask (T, K) of points whose x or y is an outlier against a running median."""
    T, K, _ = xy.shape
    ok_t = np.isfinite(t)
    steps = np.diff(t[ok_t]) if ok_t.sum() > 1 else np.array([])
    steps = steps[steps > 0]  # repeated frames share a time: they say nothing of the frame step
    dt = float(np.median(steps)) if len(steps) else 1.0
    w = min(max(2, int(round(half_window_s / dt))), max(2, len(t)))  # never wider than the clip
    pad = np.pad(xy, ((w, w), (0, 0), (0, 0)), constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * w + 1, axis=0)  # (T, K, 2, 2w+1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        med = _nanmedian_last_axis(win)
        # a median over a window lopsided by missing frames (or the clip's ends) is biased: no verdict
        half_l = np.sum(np.isfinite(win[..., :w]), axis=-1)
        half_r = np.sum(np.isfinite(win[..., w + 1:]), axis=-1)
    r = np.abs(xy - med)
    r[(half_l == 0) | (half_r == 0) | (np.abs(half_l - half_r) > 1)] = np.nan
    out = np.zeros((T, K), bool)
    for k in range(K):
        for c in (0, 1):
            rk = r[:, k, c]
            fin = rk[np.isfinite(rk)]
            if len(fin) < 5:
                continue
            sigma = 1.4826 * np.median(fin)
            thr = max(sigmas * sigma, min_px)
            out[:, k] |= np.nan_to_num(rk, nan=0.0) > thr
    return out


def _fill_and_bridge(t: np.ndarray, xy: np.ndarray, max_gap_s: float) -> tuple[np.ndarray, np.ndarray]:
    """``filled``: gaps up to ``max_gap_s`` filled (cubic); ``bridged``: also every longer inner
    gap bridged linearly, for the filter (those are blanked again afterwards)."""
    filled = np.empty_like(xy)
    bridged = np.full_like(xy, np.nan)
    for k in range(xy.shape[1]):
        for c in (0, 1):
            col = fill_nan_1d(t, xy[:, k, c], max_gap_s)
            filled[:, k, c] = col
            fin = np.isfinite(col)
            if fin.sum() >= 2:
                inside = (t >= t[fin][0]) & (t <= t[fin][-1])
                bridged[inside, k, c] = np.interp(t[inside], t[fin], col[fin])
    return filled, bridged


@lru_cache(maxsize=64)
def _butter(order: int, wn: float) -> tuple[np.ndarray, np.ndarray]:
    """Butterworth low-pass coefficients (the same few cut-offs serve every landmark)."""
    return butter(order, wn)


def _lowpass(t: np.ndarray, y: np.ndarray, cutoff_hz: np.ndarray, order: int) -> np.ndarray:
    """Zero-lag Butterworth low-pass of each column of ``y`` (T, n) sampled at times ``t``.

    Resamples to a uniform grid (median spacing) when the spacing varies, filters each
    run of finite samples, and samples back at ``t``. ``cutoff_hz`` is per column.
    """
    ok_t = np.isfinite(t)
    d = np.diff(t[ok_t])
    d = d[d > 0]
    if not len(d):
        return y.copy()
    dt = float(np.median(d))
    uniform = np.allclose(np.diff(t), dt, rtol=0.02, atol=0)
    grid = t if uniform else np.linspace(t[0], t[-1], int(np.ceil((t[-1] - t[0]) / dt)) + 1)
    g = y if uniform else resample(t, y, grid)
    out = np.full_like(g, np.nan)
    nyq = 0.5 / dt
    for j in range(g.shape[1]):
        col = g[:, j]
        fin = np.isfinite(col)
        wn = min(float(cutoff_hz[j]) / nyq, 0.95)
        b, a = _butter(order, wn)
        padlen = 3 * max(len(a), len(b))
        dd = np.diff(np.concatenate([[0], fin.astype(int), [0]]))
        for s, e in zip(np.flatnonzero(dd == 1), np.flatnonzero(dd == -1)):
            if e - s > padlen:
                out[s:e, j] = filtfilt(b, a, col[s:e])
            else:
                out[s:e, j] = col[s:e]
    return out if uniform else resample(grid, out, t)


def clean_track(track: PoseTrack, faces: int, options: CleanOptions = CleanOptions()) -> tuple[PoseTrack, dict]:
    """A cleaned copy of ``track`` and a report of what was changed.

    Parameters
    ----------
    track : raw pose track.
    faces : direction of travel (+1 image-right, -1 image-left); recorded in the report.
    options : see :class:`CleanOptions`.

    Returns
    -------
    clean : PoseTrack with the same frames, timestamps and ``repeated`` flags.
    report : dict with ``step_s`` (step period found, None if none), ``cutoff_hz``,
        ``foot_cutoff_hz``, ``max_gap_s``, ``leg_px``, ``foot_px``, ``repeated_frames``,
        ``implausible_leg_frames``, ``swapped_frames``, ``swap_runs``, ``relabelled_runs`` (first and last
        frame of each run the swap search relabelled), ``kept_label_runs`` (those of them left as the model
        labelled them, from ``options.keep_labels``), ``merge_leg_frames``, ``outlier_points``,
        ``filled_points``, ``missing_points`` (still missing after filling) and
        ``warnings`` (plain-English strings).
    """
    T = len(track)
    xy = track.xy_px.copy()
    vis, z = track.visibility.copy(), track.z.copy()
    rep = track.repeated.copy()
    xy[rep] = np.nan
    t_pic = content_times_s(track.t_s, rep)
    t_frame = frame_times_s(track)
    notes: list[str] = []
    step = step_period_s(xy, t_pic)
    step_s = step if step is not None else _DEFAULT_STEP_S
    stride_hz = 1.0 / (2.0 * step_s)
    max_gap_s = options.max_gap_s if options.max_gap_s is not None else options.max_gap_steps * step_s
    leg_px, foot_px = body_scale_px(xy)
    report = {"faces": int(faces), "step_s": step, "repeated_frames": int(rep.sum()), "leg_px": leg_px,
              "foot_px": foot_px, "max_gap_s": float(max_gap_s)}
    if T < 3 or not np.isfinite(leg_px):
        report.update(swapped_frames=0, swap_runs=0, relabelled_runs=[], kept_label_runs=[], merge_leg_frames=0,
                      implausible_leg_frames=0,
                      outlier_points=0, filled_points=0,
                      missing_points=int(np.isnan(xy[..., 0]).sum()), cutoff_hz=None, foot_cutoff_hz=None,
                      warnings=["Too little of the runner was seen to clean the track."])
        return track.replace(xy_px=xy), report
    if step is None:
        notes.append("No regular stride was found; smoothing assumed 170 steps per minute.")
    xy, n_implausible = remove_implausible_legs(xy, faces)
    n_sw, relabelled = 0, []
    if options.repair_swaps:
        xy, vis, z, n_sw, relabelled = repair_swaps(xy, vis, z, t_pic, leg_px, max_gap_s, foot_px,
                                                    options.merge_foot_share, keep=options.keep_labels)
    keep = set(options.keep_labels)
    kept = [r for r in relabelled if r in keep]
    n_runs = len(relabelled) - len(kept)
    bad = _hampel(xy, t_pic, 0.2 * step_s, options.outlier_sigmas, options.outlier_min_leg * leg_px)
    bad &= np.isfinite(xy[..., 0])
    xy[bad] = np.nan
    xy, n_merge = remove_merges(xy, t_pic, foot_px, max_run_s=0.5 * step_s, merge_share=options.merge_foot_share)
    step_fixed = step_period_s(xy, t_pic)  # merges at far-foot contact can hide every other step
    if step_fixed is not None:
        step, step_s = step_fixed, step_fixed
        stride_hz = 1.0 / (2.0 * step_s)
        report["step_s"] = step
    uniq = ~rep
    tu, xu = t_pic[uniq], xy[uniq]
    missing_before = np.isnan(xu[..., 0])
    filled, bridged = _fill_and_bridge(tu, xu, max_gap_s)
    legs = set(lower_leg_points("left") + lower_leg_points("right"))
    cut = options.cutoff_hz if options.cutoff_hz is not None else options.cutoff_per_stride * stride_hz
    foot_cut = (options.cutoff_hz * options.foot_cutoff_per_stride / options.cutoff_per_stride
                if options.cutoff_hz is not None else options.foot_cutoff_per_stride * stride_hz)
    cut_col = np.repeat([foot_cut if k in legs else cut for k in range(xu.shape[1])], 2)
    U = len(tu)
    sm = _lowpass(tu, bridged.reshape(U, -1), cut_col, options.filter_order).reshape(U, -1, 2)
    still_missing = np.isnan(filled[..., 0])
    sm[still_missing] = np.nan
    out = np.full_like(xy, np.nan)
    out[uniq] = sm
    if rep.any():
        out[rep] = resample(tu, sm, np.clip(t_frame[rep], tu[0], tu[-1]))
    report.update(
        cutoff_hz=float(cut), foot_cutoff_hz=float(foot_cut), swapped_frames=n_sw, swap_runs=n_runs,
        relabelled_runs=[list(r) for r in relabelled], kept_label_runs=[list(r) for r in kept],
        merge_leg_frames=n_merge, implausible_leg_frames=n_implausible, outlier_points=int(bad.sum()),
        filled_points=int((missing_before & ~still_missing).sum()),
        missing_points=int(np.isnan(out[..., 0]).sum()), warnings=notes,
    )
    if n_runs > 0 and n_sw > 0.2 * T:
        notes.append(f"The pose model mixed up the legs in {n_sw} frames; check the left/right colours.")
    vis = np.where(np.isnan(out[..., 0]), 0.0, vis)
    meta = dict(track.meta)
    meta["cleaned"] = True
    return track.replace(xy_px=out, visibility=vis, z=z, meta=meta), report


def direction_of_travel(track: PoseTrack) -> int:
    """+1 when the runner faces image-right, -1 image-left (:mod:`metrics.conventions`).

    Votes, each weighted by how consistently it points one way: toes ahead of heels
    (both feet), nose ahead of the ears, and nose ahead of the shoulders.

    >>> import numpy as np
    >>> from metrics.track import PoseTrack
    >>> xy = np.zeros((5, 33, 2)); xy[:, Landmark.left_foot_index, 0] = 10.0
    >>> xy[:, Landmark.right_foot_index, 0] = 10.0; xy[:, Landmark.nose, 0] = 5.0
    >>> direction_of_travel(PoseTrack(xy, np.ones((5, 33)), np.arange(5) / 30))
    1
    """
    X = track.xy_px[..., 0]
    votes = []
    for s in SIDES:
        votes.append(X[:, Landmark[f"{s}_foot_index"]] - X[:, Landmark[f"{s}_heel"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without the points
        ears = np.nanmean(X[:, [Landmark.left_ear, Landmark.right_ear]], axis=1)
        sh_mid = np.nanmean(X[:, [Landmark.left_shoulder, Landmark.right_shoulder]], axis=1)
    votes.append(X[:, Landmark.nose] - ears)
    votes.append(X[:, Landmark.nose] - sh_mid)
    score = 0.0
    for v in votes:
        v = v[np.isfinite(v)]
        if len(v):
            score += np.mean(np.sign(v))
    return 1 if score >= 0 else -1


def near_side(track: PoseTrack, faces: int | None = None) -> str:
    """Body side nearer the camera, ``'left'`` or ``'right'`` (as the pose model labels legs).

    The model's depth ``z`` (smaller = nearer) of hip, knee, ankle and shoulder decides
    when present; otherwise, or when it is inconclusive, the leg seen with higher
    visibility. ``faces`` is accepted for symmetry with the other calls and not used.
    """
    pts = ("shoulder", "hip", "knee", "ankle")
    zs = {s: track.z[:, [Landmark[f"{s}_{p}"] for p in pts]] for s in SIDES}
    dz = zs["left"] - zs["right"]
    dz = dz[np.isfinite(dz)]
    if len(dz) >= 10:
        frac = float(np.mean(dz < 0))
        if abs(frac - 0.5) > 0.1:
            return "left" if frac > 0.5 else "right"
    vs = {s: float(np.nanmean(track.visibility[:, [Landmark[f"{s}_{p}"] for p in pts]])) for s in SIDES}
    return "left" if vs["left"] >= vs["right"] else "right"
