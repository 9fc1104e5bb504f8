"""Errors gaitscope raises on purpose. Every message says what is wrong and what to do."""

from __future__ import annotations

__all__ = ["GaitscopeError", "VideoError", "NoPersonError", "InputError", "Cancelled"]


class GaitscopeError(Exception):
    """Base class: a problem with the user's input, reported without a traceback."""


class VideoError(GaitscopeError):
    """The file is not a readable video (empty, not a video, truncated, no video stream)."""


class NoPersonError(GaitscopeError):
    """No runner was found in the clip."""


class InputError(GaitscopeError):
    """The clip or an option cannot be analysed as given (too short, wrong view, bad value)."""


class Cancelled(GaitscopeError):
    """The user cancelled the analysis."""
