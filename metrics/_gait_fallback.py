"""TEMPORARY stand-ins for metrics.clean / belt / events (deleted when those land)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from metrics.landmarks import Landmark, leg


@dataclass(frozen=True)
class BeltLine:
    tilt_deg: float
    y_at_x0_px: float
    residual_px: float
    source: str


@dataclass(frozen=True)
class Contact:
    foot: str
    near: bool
    ic_frame: int
    ic_time_s: float
    toe_off_frame: int | None
    toe_off_time_s: float | None
    confidence: float


def direction_of_travel(track) -> int:
    nose = track.point(Landmark.nose)[:, 0]
    hip = np.nanmean(track.xy_px[:, [Landmark.left_hip, Landmark.right_hip], 0], axis=1)
    return 1 if np.nanmedian(nose - hip) > 0 else -1


def clean_track(track, faces):
    return track, {}


def near_side(track, faces=None) -> str:
    v = track.visibility
    return "left" if np.nanmean(v[:, Landmark.left_knee]) > np.nanmean(v[:, Landmark.right_knee]) else "right"


def estimate_belt(track, faces=None) -> BeltLine:
    feet = track.xy_px[:, [Landmark.left_heel, Landmark.right_heel, Landmark.left_foot_index,
                           Landmark.right_foot_index], 1]
    y = np.nanpercentile(feet, 95) if np.isfinite(feet).any() else float("nan")
    return BeltLine(0.0, float(y), float("nan"), "fallback")


def detect_contacts(track, faces, belt=None) -> list[Contact]:
    near = near_side(track)
    hip = np.nanmean(track.xy_px[:, [Landmark.left_hip, Landmark.right_hip], 0], axis=1)
    out = []
    for side in ("left", "right"):
        fwd = faces * (track.xy_px[:, leg(side)["heel"], 0] - hip)
        fwd = np.where(np.isfinite(fwd), fwd, np.nanmedian(fwd))
        ics, _ = find_peaks(fwd, distance=8, prominence=np.nanstd(fwd))
        tos, _ = find_peaks(-fwd, distance=8, prominence=np.nanstd(fwd))
        for i in ics:
            later = tos[tos > i]
            to = int(later[0]) if later.size else None
            out.append(Contact(side, side == near, int(i), float(track.t_s[i]), to,
                               None if to is None else float(track.t_s[to]), 0.8))
    return sorted(out, key=lambda c: c.ic_frame)
