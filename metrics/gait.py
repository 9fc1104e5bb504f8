"""Entry point of the gait measures: ``analyze_gait(track, options) -> GaitResult``.

PLACEHOLDER until the event/kinematics work lands: it finds the direction of travel
and returns no strikes. The interface is the contract the pipeline and app use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from metrics.conventions import faces_name
from metrics.landmarks import Landmark
from metrics.track import PoseTrack

__all__ = ["GaitOptions", "GaitResult", "analyze_gait"]


@dataclass(frozen=True)
class GaitOptions:
    runner_height_cm: float | None = None
    belt_tilt_deg: float | None = None


@dataclass
class GaitResult:
    runner: dict
    strikes: list[dict]
    summary: dict
    track_clean: PoseTrack
    tilt_deg: float = 0.0
    warnings: list[str] = field(default_factory=list)


def analyze_gait(track: PoseTrack, options: GaitOptions = GaitOptions()) -> GaitResult:
    nose = track.point(Landmark.nose)[:, 0]
    hip = np.nanmean(track.xy_px[:, [Landmark.left_hip, Landmark.right_hip], 0], axis=1)
    faces = 1 if np.nanmedian(nose - hip) > 0 else -1
    vis = track.visibility
    near = "left" if np.nanmean(vis[:, Landmark.left_knee]) > np.nanmean(vis[:, Landmark.right_knee]) else "right"
    return GaitResult({"faces": faces_name(faces), "near_side": near}, [], {"cadence_spm": None}, track)
