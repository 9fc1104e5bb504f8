"""The belt (or ground) line in the picture, from where the feet stand.

During stance a shoe lies on the belt and slides backward with it (on a treadmill)
or stays put while the runner passes (overground, static camera); either way its
lowest points trace the belt line. :func:`estimate_belt` fits one straight line
with a common slope to the heel and toe points of both feet while they are down,
allowing each point its own offset (the heel landmark sits a little above the
sole, and the far foot stands on a parallel line higher in the picture), and
reports the lowest of those parallel lines: the one the near shoe slides along.

Sign of the tilt follows :mod:`metrics.conventions`: positive when the line runs
downward to the right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics.clean import body_scale_px
from metrics.conventions import rotate_to_belt
from metrics.landmarks import Landmark, SIDES
from metrics.track import PoseTrack

__all__ = ["BeltLine", "estimate_belt", "height_above_belt_px", "FOOT_POINTS"]

#: The foot landmarks that touch the belt: heel and toe tip.
FOOT_POINTS = ("heel", "foot_index")


@dataclass(frozen=True)
class BeltLine:
    """A straight line in the picture: ``y = y_at_x0_px + tan(tilt_deg) * x``.

    Attributes
    ----------
    tilt_deg : angle of the line, positive when it runs downward to the right.
    y_at_x0_px : where the line crosses the left edge (x = 0) of the picture.
    residual_px : robust spread (1.4826 MAD) of the stance points about their lines; NaN if unknown.
    source : ``'estimated'`` or ``'user'`` (other values name other origins).
    """

    tilt_deg: float
    y_at_x0_px: float
    residual_px: float
    source: str

    def y_at(self, x_px: np.ndarray | float) -> np.ndarray:
        """y of the line at picture x."""
        return self.y_at_x0_px + np.tan(np.deg2rad(self.tilt_deg)) * np.asarray(x_px, float)


def height_above_belt_px(xy_px: np.ndarray, belt: BeltLine) -> np.ndarray:
    """Distance of points above the belt line, measured along the belt's normal (up positive).

    >>> b = BeltLine(0.0, 100.0, 0.0, "user")
    >>> height_above_belt_px(np.array([[5.0, 90.0]]), b).tolist()
    [10.0]
    """
    p = np.asarray(xy_px, float) - np.array([0.0, belt.y_at_x0_px])
    return -rotate_to_belt(p, belt.tilt_deg)[..., 1]


def _fit(x: np.ndarray, y: np.ndarray, group: np.ndarray, n_groups: int, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Weighted least squares ``y = m x + c[group]``: returns (m, c)."""
    A = np.zeros((len(x), 1 + n_groups))
    A[:, 0] = x
    A[np.arange(len(x)), 1 + group] = 1.0
    sw = np.sqrt(w)
    sol, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
    return float(sol[0]), sol[1:]


def estimate_belt(track_clean: PoseTrack, faces: int, band_leg: float = 0.04, iterations: int = 4) -> BeltLine:
    """Belt line from the heel and toe points of both feet while they stand on it.

    Parameters
    ----------
    track_clean : cleaned pose track.
    faces : direction of travel (+1 image-right); accepted for the common call shape.
    band_leg : a point counts as "down" within this share of the leg length of its line.
    iterations : refits, each reselecting the points near the current lines.

    Returns
    -------
    BeltLine with ``source='estimated'``; a level line through the lowest foot points
    with NaN residual when there are too few points to fit.

    Notes
    -----
    First pass: points in the lowest ``band`` of each landmark's own range. Then
    iteratively reweighted (Huber) least squares with a common slope and one offset per
    landmark, keeping points within ``band`` above their line. Slopes steeper than
    30 deg are rejected (not a belt).
    """
    xy = track_clean.xy_px
    leg_px, _ = body_scale_px(xy)
    series = [xy[:, Landmark[f"{s}_{p}"]] for s in SIDES for p in FOOT_POINTS]
    band = band_leg * leg_px if np.isfinite(leg_px) else 10.0
    pts, grp = [], []
    for g, p in enumerate(series):
        ok = np.isfinite(p).all(axis=1)
        if ok.sum() < 5:
            continue
        pts.append(p[ok])
        grp.append(np.full(ok.sum(), g))
    if not pts:
        return BeltLine(0.0, float("nan"), float("nan"), "estimated")
    P, G = np.concatenate(pts), np.concatenate(grp)
    n_g = len(series)
    # first pass: lowest band of each landmark's own heights (largest y)
    sel = np.zeros(len(P), bool)
    for g in np.unique(G):
        yg = P[G == g, 1]
        sel[G == g] = yg >= np.quantile(yg, 0.9) - band
    m, c = 0.0, np.zeros(n_g)
    for _ in range(iterations):
        if sel.sum() < 6:
            break
        w = np.ones(sel.sum())
        for _ in range(5):  # Huber reweighting
            m, cc = _fit(P[sel, 0], P[sel, 1], G[sel], n_g, w)
            r = P[sel, 1] - (m * P[sel, 0] + cc[G[sel]])
            s = max(1.4826 * np.median(np.abs(r)), 0.5)
            w = np.minimum(1.0, 1.5 * s / np.maximum(np.abs(r), 1e-9))
        c = cc
        r_all = P[:, 1] - (m * P[:, 0] + c[G])
        new = (r_all >= -band) & (r_all <= band)
        if np.array_equal(new, sel):
            break
        sel = new
    if sel.sum() < 6 or abs(np.rad2deg(np.arctan(m))) > 30:
        y = float(np.nanquantile(P[:, 1], 0.95))
        return BeltLine(0.0, y, float("nan"), "estimated")
    r = P[sel, 1] - (m * P[sel, 0] + c[G[sel]])
    used = np.unique(G[sel])
    resid = float(1.4826 * np.median(np.abs(r)))
    return BeltLine(float(np.rad2deg(np.arctan(m))), float(np.max(c[used])), resid, "estimated")
