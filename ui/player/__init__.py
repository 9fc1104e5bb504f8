"""The frame-accurate player: a Streamlit custom component that holds the clip in the browser.

Python sends the proxy's URL and the overlay data once per run; stepping, playing, the
timeline and the foot-height plot all run in the browser (no server round trip per frame).
The component answers only when the user asks for an edit: ``{"action", "frame", "foot",
"strike_id", "nonce"}``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit.components.v1 as components

from ui.player.data import player_data

__all__ = ["player", "player_data", "media_url", "FRONTEND_DIR"]

FRONTEND_DIR = Path(__file__).resolve().parent / "frontend"
_component = components.declare_component("gaitscope_player", path=str(FRONTEND_DIR))


def media_url(path: Path, coordinates: str) -> str:
    """A same-origin URL under which the Streamlit server serves ``path`` (range requests supported).

    Uses the media file manager behind ``st.video``; the file is registered for this session
    and this run, and the URL is stable while the file's bytes are unchanged.
    """
    from streamlit.runtime import Runtime

    return Runtime.instance().media_file_mgr.add(str(path), "video/mp4", coordinates)


def player(video_url: str, data: dict, seek: dict | None = None, key: str = "player") -> dict | None:
    """Draw the player; returns the last edit request (or None).

    Parameters
    ----------
    video_url : URL of the all-intra proxy (see :mod:`ui.app_proxy`).
    data : from :func:`player_data` (frames, times, legs, strikes, plot signals).
    seek : ``{"frame": int, "nonce": any}``: jump there once per new nonce.
    """
    return _component(video=video_url, data=data, seek=seek or {}, key=key, default=None)
