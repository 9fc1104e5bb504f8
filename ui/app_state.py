"""Page state: the library, the process-wide job registry, and which analysis is open.

The open analysis lives in the URL (``?a=<id>``) so a reload or a restarted app reopens it.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.app_jobs import JobRegistry
from ui.library import Library, default_data_dir

__all__ = ["library", "jobs", "open_id", "open_analysis", "close_analysis", "flash", "show_flash", "SAMPLE_CLIP"]

SAMPLE_CLIP = Path(__file__).resolve().parents[1] / "sample_videos" / "zzzhushi_male_side.mp4"


def library() -> Library:
    """The library of the data folder (``$GAITSCOPE_DATA`` or the per-user default)."""
    return Library(default_data_dir())


@st.cache_resource(show_spinner=False)
def jobs() -> JobRegistry:
    """Analyses running in this app process (shared by every browser tab)."""
    return JobRegistry()


def open_id() -> str | None:
    return st.query_params.get("a") or None


def open_analysis(analysis_id: str) -> None:
    st.query_params["a"] = analysis_id
    for k in [k for k in st.session_state if str(k).startswith("review:")]:
        del st.session_state[k]


def close_analysis() -> None:
    if "a" in st.query_params:
        del st.query_params["a"]


def flash(kind: str, text: str) -> None:
    """A message shown once on the next run (after ``st.rerun``)."""
    st.session_state["flash"] = (kind, text)


def show_flash() -> None:
    item = st.session_state.pop("flash", None)
    if item:
        getattr(st, item[0])(item[1])
