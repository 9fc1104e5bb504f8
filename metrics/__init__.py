"""Gait events and kinematics from a pose track: pure numpy/scipy, no video, no UI."""

from metrics.errors import Cancelled, GaitscopeError, InputError, NoPersonError, VideoError
from metrics.gait import GaitOptions, GaitResult, analyze_gait
from metrics.track import PoseTrack

__all__ = [
    "Cancelled", "GaitscopeError", "InputError", "NoPersonError", "VideoError",
    "GaitOptions", "GaitResult", "analyze_gait", "PoseTrack",
]
