"""New analysis: upload a clip (or take the sample), check it, start the analysis; then its progress."""

from __future__ import annotations

import shutil
import time

import streamlit as st

from metrics.errors import GaitscopeError, InputError, VideoError
from ui.app_jobs import AnalysisJob
from ui.app_state import SAMPLE_CLIP, flash, jobs, open_analysis
from ui.app_text import md
from ui.library import AnalysisRecord, ClipRecord, Library
from ui.pipeline import POSE_CACHE_NAME, AnalyzeOptions, check_clip_length
from vision.video import VideoInfo, probe

__all__ = ["new_analysis_view", "progress_view", "start_job", "MODEL_LABELS"]

MODEL_LABELS = {"full": "Balanced (recommended)", "lite": "Fast", "heavy": "Most accurate (slow)"}


def _clip_facts(info: VideoInfo) -> str:
    orient = "portrait" if info.height > info.width else "landscape"
    slow = f" · filmed at {info.capture_fps:.0f} fps (slow motion)" if info.capture_fps > info.fps * 1.05 else ""
    vfr = " · variable frame rate" if info.variable_frame_rate else ""
    return (f"{info.width}×{info.height} {orient} · {info.codec.upper()} · {info.duration_s:.1f} s · "
            f"{info.frames} frames at {info.fps:.2f} fps{slow}{vfr}")


def _store_upload(lib: Library, uploaded) -> tuple[ClipRecord, VideoInfo] | None:
    """Copy the upload into the library once per file, probe it; None (and a message) if unusable."""
    key = f"upload:{uploaded.file_id}"
    if key in st.session_state:
        return st.session_state[key]
    uploaded.seek(0)
    clip, is_new = lib.add_clip(uploaded, uploaded.name)
    try:
        info = probe(clip.path)
        check_clip_length(clip.path.name, info)  # too short: say so now, not after the analysis
    except (VideoError, InputError) as exc:
        if is_new:
            lib.discard_clip(clip.id)
        st.error(f"**This file cannot be analysed.** {md(str(exc).replace(clip.path.name, uploaded.name))}")
        return None
    st.session_state[key] = (clip, info)
    return clip, info


def start_job(lib: Library, rec: AnalysisRecord, clip: ClipRecord) -> None:
    """Run ``rec`` in the background; reuse a pose track from an earlier analysis of the same clip."""
    target = rec.folder / POSE_CACHE_NAME
    if not target.exists():
        for other in lib.analyses(clip.id):
            src = other.folder / POSE_CACHE_NAME
            if other.id != rec.id and other.model == rec.model and src.is_file():
                shutil.copyfile(src, target)
                break
    opts = AnalyzeOptions(model=rec.model, capture_fps=rec.capture_fps, runner_height_cm=rec.height_cm)
    jobs().submit(AnalysisJob(lib.root, rec.id, clip.path, opts))


def _start(lib: Library, clip: ClipRecord, runner: str, height_cm, capture_fps, model: str) -> None:
    rec = lib.start_analysis(clip.id, runner=runner or "", height_cm=height_cm or None,
                             capture_fps=capture_fps or None, model=model)
    start_job(lib, rec, clip)
    open_analysis(rec.id)
    st.rerun()


def _open_sample(lib: Library) -> None:
    with open(SAMPLE_CLIP, "rb") as f:
        clip, _ = lib.add_clip(f, "Sample: treadmill runner (side view).mp4")
    done = [a for a in lib.analyses(clip.id) if a.status == "done"]
    if done:
        open_analysis(done[0].id)
        st.rerun()
    _start(lib, clip, "Sample runner", None, None, "full")


def new_analysis_view(lib: Library) -> None:
    st.markdown("### New analysis")
    st.caption("Film the runner side-on, camera still at hip height, whole body in view, 10–20 s of steady running.")
    left, right = st.columns([3, 2], gap="large")
    with right:
        st.markdown("**No clip at hand?**")
        if st.button("Open the sample clip", icon=":material/play_circle:", width="stretch",
                     help="A runner on a treadmill, filmed side-on with a phone (12 s)."):
            _open_sample(lib)
        st.caption("The first time, the sample is analysed like any upload (about a minute).")
    with left:
        uploaded = st.file_uploader("Phone clip (.mp4, .mov or .m4v; H.264 or HEVC; up to 2 GB)",
                                    type=["mp4", "mov", "m4v"], key="uploader")
        if uploaded is None:
            return
        stored = _store_upload(lib, uploaded)
        if stored is None:
            return
        clip, info = stored
        st.caption(_clip_facts(info))
        earlier = [a for a in lib.analyses(clip.id) if a.status == "done"]
        if earlier:
            a = earlier[0]
            c1, c2 = st.columns([3, 1])
            c1.info(f"This clip is already in your library (analysed {a.created_utc[:10]}"
                    f"{' for ' + md(a.runner) if a.runner else ''}).")
            if c2.button("Open it", key="open-earlier"):
                open_analysis(a.id)
                st.rerun()
        with st.form("analyse-form", border=False):
            c1, c2, c3 = st.columns(3)
            runner = c1.text_input("Runner name (optional)", max_chars=120)
            height = c2.number_input("Height in cm (optional)", min_value=100.0, max_value=230.0, value=None,
                                     step=1.0, help="Gives overstride in centimetres.")
            tag = info.capture_fps if info.capture_fps_source == "tag" else None
            cap = c3.number_input("Filmed at (fps, for slow motion)", min_value=1.0, max_value=2000.0, value=tag,
                                  step=1.0, key=f"cap-{clip.id}",
                                  help="Only for slow-motion clips: the rate the phone filmed at, e.g. 240. "
                                       + ("Read from the file." if tag else "Leave empty for normal clips."))
            model = st.radio("Pose model", list(MODEL_LABELS), format_func=MODEL_LABELS.get, horizontal=True)
            go = st.form_submit_button("Analyse", type="primary", icon=":material/directions_run:")
        if go:
            _start(lib, clip, runner, height, cap, model)


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "…"
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"


def progress_view(lib: Library, rec: AnalysisRecord) -> None:
    """Progress of a running analysis, refreshed twice a second, with Cancel."""
    st.markdown(f"### Analysing {md(rec.clip_name)}")

    @st.fragment(run_every=0.5)
    def _panel() -> None:
        job = jobs().get(rec.id)
        if job is None:  # started by an app process that has gone
            lib.recover_interrupted()
            st.rerun()
            return
        s = job.status()
        if s.state != "running" or s.stage == "player":  # results are ready; the player follows
            if s.state == "cancelled":
                flash("info", "Analysis cancelled. Nothing else in your library was changed.")
            st.rerun()
            return
        unit = "frames" if s.stage in ("pose", "player") else "steps"
        text = f"{s.label} · {s.done}/{s.total} {unit}" if s.total else s.label
        if s.stage in ("pose", "player") and s.rate_per_s > 0:
            text += f" · {s.rate_per_s:.1f} frames/s · {_fmt_s(s.eta_s)} left"
        st.progress(s.fraction, text=text)
        st.caption(f"Elapsed {_fmt_s(s.elapsed_s)}. You can close this tab: the analysis goes on and "
                   "appears in the library when done.")
        if st.button("Cancel", icon=":material/stop_circle:", key=f"cancel-{rec.id}"):
            job.cancel()
            deadline = time.monotonic() + 5
            while job.status().state == "running" and time.monotonic() < deadline:
                time.sleep(0.1)

    _panel()


def rerun_view(lib: Library, rec: AnalysisRecord) -> None:
    """A failed or interrupted analysis: its message, Run again, Delete."""
    st.markdown(f"### {md(rec.clip_name)}")
    st.error(md(rec.message) if rec.message else "This analysis did not finish.")
    c1, c2, _ = st.columns([1, 1, 4])
    if c1.button("Run again", type="primary", icon=":material/refresh:"):
        clip = lib.clip(rec.clip_id)
        if clip is None or not clip.path.is_file():
            st.error("The clip of this analysis is missing from the data folder; upload it again.")
            return
        try:
            start_job(lib, lib.restart_analysis(rec.id), clip)
        except GaitscopeError as exc:
            st.error(md(exc))
            return
        st.rerun()
    if c2.button("Delete", icon=":material/delete:"):
        lib.delete_analysis(rec.id)
        from ui.app_state import close_analysis
        close_analysis()
        st.rerun()
