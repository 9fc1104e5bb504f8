"""Gait events and kinematics from a pose track: pure numpy/scipy, no video, no UI."""

from metrics.edits import Edit, apply_edits, undo, with_edit
from metrics.errors import Cancelled, GaitscopeError, InputError, NoPersonError, VideoError
from metrics.gait import GaitOptions, GaitResult, analyze_gait
from metrics.kinematics import Geometry
from metrics.track import PoseTrack

__all__ = [
    "Cancelled", "GaitscopeError", "InputError", "NoPersonError", "VideoError",
    "GaitOptions", "GaitResult", "analyze_gait", "PoseTrack", "Geometry",
    "Edit", "apply_edits", "undo", "with_edit",
]
