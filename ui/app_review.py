"""An open analysis: the stored result with the user's edits replayed, and edit requests from the player.

The pose track is cached in the analysis folder, so reopening runs only the (fast) gait
measures; the edits live in the library index and are replayed onto the detected strikes
(:func:`metrics.edits.apply_edits`), so every measure and the summary follow at once.
``analysis.json`` and ``strikes.csv`` in the folder are rewritten with the edited strikes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from metrics import GaitResult
from metrics.edits import Edit, apply_edits
from metrics.errors import InputError
from ui.app_proxy import make_proxy, proxy_meta
from ui.app_state import jobs
from ui.library import AnalysisRecord, Library
from ui.pipeline import Analysis, AnalyzeOptions, analyze
from ui.results import atomic_write_text, build_document, strikes_csv

__all__ = ["Review", "load_review", "handle_event", "export_source"]


@dataclass
class Review:
    rec: AnalysisRecord
    base: Analysis
    result: GaitResult
    document: dict
    edits: list[dict]
    proxy: dict | None  # None while the analysis job is still writing it

    @property
    def strikes(self) -> list[dict]:
        return self.result.strikes

    @property
    def warnings(self) -> list[str]:
        return list(self.document.get("warnings") or [])


@st.cache_resource(max_entries=4, show_spinner="Opening the analysis…")
def _load_base(folder: str, clip_path: str, model: str, capture_fps: float | None, height_cm: float | None,
               stamp: str) -> Analysis:
    """The unedited analysis (pose from the folder's cache). ``stamp`` invalidates on change."""
    opts = AnalyzeOptions(model=model, capture_fps=capture_fps, runner_height_cm=height_cm, use_cache=True)
    return analyze(clip_path, folder, opts)


def _edited(base: Analysis, edits: list[dict]) -> tuple[GaitResult, dict]:
    result = apply_edits(base.gait, [Edit.from_dict(e) for e in edits]) if edits else base.gait
    pipeline_only = [w for w in base.warnings if w not in base.gait.warnings]
    doc = build_document(base.info, result, options=base.document.get("options", {}),
                         sha256=base.document["video"]["sha256"], warnings=pipeline_only + list(result.warnings))
    doc["edits"] = edits
    return result, doc


def _save(folder: Path, doc: dict) -> None:
    """Write the edited strikes, unless the files already hold them (the page runs on every click)."""
    text = json.dumps(doc, indent=1)
    target = folder / "analysis.json"
    try:
        if target.read_text(encoding="utf-8") == text and (folder / "strikes.csv").is_file():
            return
    except OSError:
        pass
    atomic_write_text(folder / "strikes.csv", strikes_csv(doc["strikes"]))
    atomic_write_text(target, text)


def load_review(lib: Library, rec: AnalysisRecord) -> Review:
    """Open a finished analysis (raises GaitscopeError with a message if it cannot be)."""
    clip = lib.clip(rec.clip_id)
    if clip is None or not clip.path.is_file():
        raise InputError("The clip of this analysis is missing from the data folder. Delete this analysis and "
                         "upload the clip again.")
    cache = rec.folder / "pose_track.npz"
    stamp = f"{rec.id}:{cache.stat().st_mtime_ns if cache.exists() else 0}"
    base = _load_base(str(rec.folder), str(clip.path), rec.model, rec.capture_fps, rec.height_cm, stamp)
    edits = lib.edits(rec.id)
    result, doc = _edited(base, edits)
    _save(rec.folder, doc)
    proxy = proxy_meta(rec.folder)
    if proxy is None and not proxy_in_progress(rec.id):
        with st.spinner("Preparing the frame-accurate player…"):
            proxy = make_proxy(base.info, rec.folder)
    proxy = {**proxy, "time_scale": base.info.time_scale} if proxy else None
    return Review(rec, base, result, doc, edits, proxy)


def proxy_in_progress(analysis_id: str):
    """The analysis job still writing this analysis's player proxy, or None."""
    job = jobs().get(analysis_id)
    return job if job is not None and job.status().state == "running" else None


def handle_event(lib: Library, review: Review, event: dict) -> tuple[str, str] | None:
    """Turn a player request into a stored edit; returns a (kind, message) toast or None."""
    action = event.get("action")
    frame = event.get("frame")
    if action == "undo":
        undone = lib.undo_edit(review.rec.id)
        return ("info", "Nothing to undo.") if undone is None else ("success", f"Undid: {_describe(undone)}")
    try:
        if action == "move":
            edit = Edit("move", strike_id=event.get("strike_id"), ic_frame=int(frame))
        elif action == "add":
            edit = Edit("add", foot=event.get("foot"), ic_frame=int(frame))
        elif action in ("reject", "restore"):
            edit = Edit(action, strike_id=event.get("strike_id"))
        else:
            return None
    except (TypeError, ValueError) as exc:
        return "warning", f"That correction could not be made ({exc})."
    trial = apply_edits(review.base.gait, [Edit.from_dict(e) for e in review.edits] + [edit])
    skipped = [w for w in trial.warnings if w.startswith(f"Edit {len(review.edits) + 1} ")]
    if skipped:
        return "warning", skipped[0]
    lib.add_edit(review.rec.id, edit.to_dict())
    return "success", _describe(edit.to_dict())


def _describe(e: dict) -> str:
    kind = e.get("kind")
    if kind == "move":
        return f"contact of strike {e.get('strike_id')} moved to frame {e.get('ic_frame')}"
    if kind == "add":
        return f"{e.get('foot')} strike added at frame {e.get('ic_frame')}"
    return f"strike {e.get('strike_id')} {'rejected' if kind == 'reject' else 'restored'}"


def export_source(review: Review):
    """The exports' view of this analysis (edited strikes)."""
    from ui.export import ExportSource

    return ExportSource.from_document(review.base.info, review.document, review.result.track_clean)
