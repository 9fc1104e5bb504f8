"""Left/right leg identity: swap repair and merge removal (private to :mod:`metrics.clean`).

Pose models label legs from appearance, and in a side view the two legs look alike:
labels flip for a frame or for long stretches, and at far-foot contact the far foot is
often drawn on top of the near one ("merge").

Swaps are repaired by a Viterbi search over "as labelled" / "swapped" per frame whose
cost is how far each leg point lands from the straight-line continuation of its
two previous positions (a constant-velocity prediction): labels that jump between
the legs break that continuation, while legs that genuinely cross keep it. Each
run of frames without a long gap is solved on its own and then oriented so that most
of its frames keep the model's labels.

The search only sees evidence where labels change: inside a relabelled run, keeping or
swapping is equally continuous, so two glitches close together can flip the correct
labels between them. :func:`metrics.gait.analyze_gait` catches that when the contacts then
break the running rhythm, and asks again with the run kept as labelled (``keep``).
"""

from __future__ import annotations

import warnings

import numpy as np

from metrics._timing import lower_leg_points

__all__ = ["repair_swaps", "remove_merges", "merged_frames", "remove_implausible_legs"]


def _swap_view(xy: np.ndarray, left: list[int], right: list[int], state: int) -> np.ndarray:
    """(len(left)*2, 2) leg points of one frame, left then right, after applying ``state``."""
    a, b = xy[left], xy[right]
    return np.concatenate([b, a]) if state else np.concatenate([a, b])


def _cost(err: np.ndarray, scale: float, cap: float = 1.0) -> np.ndarray:
    """Sum over points (axis -2) of a capped squared error in units of ``scale``; NaN points cost nothing."""
    e = np.linalg.norm(err, axis=-1) / scale
    return np.sum(np.where(np.isfinite(e), np.minimum(e, cap) ** 2, 0.0), axis=-1)


def _segments(t: np.ndarray, frames: np.ndarray, max_gap_s: float) -> list[np.ndarray]:
    if not len(frames):
        return []
    cut = np.flatnonzero(np.diff(t[frames]) > max_gap_s) + 1
    return [s for s in np.split(frames, cut) if len(s)]


def _viterbi_segment(P: np.ndarray, t: np.ndarray, scale: float, switch_cost: float = 1.5,
                     swapped_cost: float = 0.1) -> np.ndarray:
    """States (0 as labelled, 1 swapped) for one segment.

    ``P`` is (n, 2, m, 2): frame, state, point (left points then right points), xy.
    Costs are in units of one point's capped error. Each change of state costs
    ``switch_cost`` and each frame relabelled ``swapped_cost``: the model keeps its
    labels far more often than it flips them, so a relabelling needs evidence.
    """
    n = len(P)
    if n == 1:
        return np.zeros(1, int)
    # every transition's cost at once: step[j, a, b, c] for states a, b, c at frames j-2, j-1, j
    r = (t[2:] - t[1:-1]) / np.maximum(t[1:-1] - t[:-2], 1e-9)
    prev2, prev1, cur = P[:-2, :, None, None], P[1:-1, None, :, None], P[2:, None, None, :]
    pred = prev1 + (prev1 - prev2) * r[:, None, None, None, None, None]
    step = _cost(cur - pred, scale).tolist()  # (n-2, 2, 2, 2) as nested lists: fast scalar access below
    # pair states (s_prev, s_cur) -> index 2*s_prev + s_cur
    first = _cost(P[1][None, :] - P[0][:, None], scale)  # (a, b)
    cost = [float(first[a, b]) + switch_cost * (a != b) + swapped_cost * (a + b) for a in (0, 1) for b in (0, 1)]
    back = np.zeros((n, 4), int)
    for j in range(2, n):
        sj = step[j - 2]
        new = [0.0] * 4
        for b in (0, 1):
            for c in (0, 1):
                best, arg = np.inf, 0
                for a in (0, 1):
                    v = cost[2 * a + b] + sj[a][b][c] + switch_cost * (b != c) + swapped_cost * c
                    if v < best:
                        best, arg = v, a
                new[2 * b + c] = best
                back[j, 2 * b + c] = arg
        cost = new
    states = np.zeros(n, int)
    k = int(np.argmin(cost))
    states[-1], states[-2] = k % 2, k // 2
    for j in range(n - 1, 1, -1):
        a = back[j, 2 * states[j - 1] + states[j]]
        states[j - 2] = a
    return states


def merged_frames(xy: np.ndarray, foot_px: float, merge_share: float) -> np.ndarray:
    """(T,) True where the two feet's ankle, heel and toe lie on average closer than
    ``merge_share`` foot lengths."""
    foot = {s: lower_leg_points(s)[1:] for s in ("left", "right")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without feet
        d = np.nanmean(np.linalg.norm(xy[:, foot["left"]] - xy[:, foot["right"]], axis=-1), axis=1)
    return np.isfinite(d) & (d < merge_share * foot_px)


def repair_swaps(xy: np.ndarray, vis: np.ndarray, z: np.ndarray, t: np.ndarray, leg_px: float,
                 max_gap_s: float, foot_px: float, merge_share: float = 0.3,
                 keep: tuple[tuple[int, int], ...] = ()
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, list[tuple[int, int]]]:
    """Relabel knee/ankle/heel/toe so each leg keeps its identity through the clip.

    Parameters
    ----------
    xy : (T, 33, 2) positions (NaN = missing); vis, z : (T, 33).
    t : (T,) times of the pictures in seconds.
    leg_px : hip-to-ankle length, the error scale.
    max_gap_s : frames further apart than this are solved separately.
    foot_px, merge_share : frames with both feet on one spot (see :func:`merged_frames`) are skipped.
    keep : ``(first, last)`` frame runs, as returned by an earlier call, to leave as the model
        labelled them (a caller that found the relabelling wrong by other evidence).

    Returns
    -------
    xy, vis, z : relabelled copies.
    n_frames : frames whose legs were relabelled.
    runs : ``(first, last)`` frames of each run the search relabelled, ``keep`` included (the
        frames skipped inside a run, missing or merged, are not relabelled).
    """
    left, right = lower_leg_points("left"), lower_leg_points("right")
    xy, vis, z = xy.copy(), vis.copy(), z.copy()
    seen = np.isfinite(xy[:, left + right, 0]).sum(axis=1) >= 4
    # frames where both feet were drawn on one spot say nothing about identity and spoil
    # the velocity of the frames after them
    seen &= ~merged_frames(xy, foot_px, merge_share)
    frames = np.flatnonzero(seen)
    swap = np.zeros(len(xy), bool)
    scale = 0.15 * leg_px
    runs: list[tuple[int, int]] = []
    kept = set(keep)
    for seg in _segments(t, frames, max_gap_s):
        P = np.stack([np.stack([_swap_view(xy[f], left, right, s) for s in (0, 1)]) for f in seg])
        st = _viterbi_segment(P, t[seg], scale)
        for a, b in _runs(st.astype(bool)):
            run = (int(seg[a]), int(seg[b - 1]))
            runs.append(run)
            if run in kept:
                st[a:b] = 0
        swap[seg] = st.astype(bool)
    for arr in (xy, vis, z):
        a, b = arr[swap][:, left].copy(), arr[swap][:, right].copy()
        sel = np.flatnonzero(swap)
        arr[np.ix_(sel, left)] = b
        arr[np.ix_(sel, right)] = a
    return xy, vis, z, int(swap.sum()), runs


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, end) runs of True."""
    d = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _deviation(xy: np.ndarray, t: np.ndarray, pts: list[int], start: int, end: int, k: int = 2) -> float:
    """Mean distance of ``pts`` in frames [start, end) from a straight-line bridge over the run.

    The bridge joins the positions at the nearest seen frames before and after the run
    (or continues the last ``k`` frames when only one side is seen). NaN when neither is.
    """
    seen = np.isfinite(xy[:, pts, 0]).all(axis=1)
    before = np.flatnonzero(seen[:start])[-k:]
    after = np.flatnonzero(seen[end:])[:k] + end
    if not len(before) and not len(after):
        return float("nan")
    ref = np.concatenate([before, after])
    if len(ref) < 2:
        return float("nan")
    dev = []
    for p in pts:
        for c in (0, 1):
            coef = np.polyfit(t[ref], xy[ref, p, c], 1)
            pred = np.polyval(coef, t[start:end])
            dev.append(np.abs(xy[start:end, p, c] - pred))
    d = np.nanmean(np.stack(dev))
    return float(d)


def remove_merges(xy: np.ndarray, t: np.ndarray, foot_px: float, max_run_s: float,
                  merge_share: float = 0.3, jump_share: float = 0.35) -> tuple[np.ndarray, int]:
    """Blank the wrong leg where both feet were drawn on the same spot.

    A frame is merged when the two feet's ankle, heel and toe lie on average closer
    than ``merge_share`` foot lengths. For each run of merged frames no longer than
    ``max_run_s``, the leg whose points leave the straight-line bridge over the run by
    more than ``jump_share`` foot lengths is set missing (both, when both do); legs that
    genuinely pass each other stay.

    Returns the new array and the number of leg-frames blanked.
    """
    xy = xy.copy()
    foot = {s: lower_leg_points(s)[1:] for s in ("left", "right")}
    legs = {s: lower_leg_points(s) for s in ("left", "right")}
    merged = merged_frames(xy, foot_px, merge_share)
    n = 0
    for start, end in _runs(merged):
        if t[end - 1] - t[start] > max_run_s:
            continue
        dev = {s: _deviation(xy, t, foot[s], start, end) for s in ("left", "right")}
        bad = [s for s in dev if np.isfinite(dev[s]) and dev[s] > jump_share * foot_px]
        if len(bad) == 2 and dev["left"] != dev["right"]:
            ratio = max(dev.values()) / max(min(dev.values()), 1e-9)
            if ratio > 3.0:
                bad = [max(dev, key=dev.get)]
        for s in bad:
            xy[start:end, legs[s]] = np.nan
            n += int(end - start)
    return xy, n


def remove_implausible_legs(xy: np.ndarray, faces: int, shank_range: tuple[float, float] = (0.6, 1.4),
                            foot_range: tuple[float, float] = (0.5, 1.6), max_forward_shank_deg: float = 60.0
                            ) -> tuple[np.ndarray, int]:
    """Blank leg points in poses no runner can take (the model followed a handrail or a shadow).

    A side's knee, ankle, heel and toe are set missing in a frame when its shank
    (knee-ankle) is shorter or longer than ``shank_range`` times its median over the clip,
    or when the ankle is ahead of the knee by more than ``max_forward_shank_deg`` from
    straight down (the shank reaches forward only while it hangs below the knee).
    Its heel and toe alone are set missing when the foot (heel-toe) length leaves
    ``foot_range`` times its median.

    Returns the new array and the number of leg-frames blanked.
    """
    xy = xy.copy()
    n = 0
    for s in ("left", "right"):
        knee, ankle, heel, toe = lower_leg_points(s)
        shank = xy[:, ankle] - xy[:, knee]
        length = np.linalg.norm(shank, axis=1)
        foot = np.linalg.norm(xy[:, toe] - xy[:, heel], axis=1)
        if not np.isfinite(length).any():
            continue
        med = np.nanmedian(length)
        ang = np.degrees(np.arctan2(faces * shank[:, 0], shank[:, 1]))  # 0 = straight down, + = ankle ahead
        with np.errstate(invalid="ignore"):
            bad = (length < shank_range[0] * med) | (length > shank_range[1] * med) | (ang > max_forward_shank_deg)
            fmed = np.nanmedian(foot) if np.isfinite(foot).any() else np.nan
            bad_foot = (foot < foot_range[0] * fmed) | (foot > foot_range[1] * fmed)
        xy[np.ix_(np.flatnonzero(bad), [knee, ankle, heel, toe])] = np.nan
        xy[np.ix_(np.flatnonzero(bad_foot & ~bad), [heel, toe])] = np.nan
        n += int(bad.sum())
    return xy, n
