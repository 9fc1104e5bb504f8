"""The review page (player, strikes, summary, plots, export) and the library sidebar."""

from __future__ import annotations

import streamlit as st

from metrics.errors import GaitscopeError
from ui.app_compare import compare_tab
from ui.app_errors import log_unexpected
from ui.app_export import export_tab
from ui.app_review import Review, handle_event, load_review, proxy_in_progress
from ui.app_state import close_analysis, jobs, open_analysis
from ui.app_text import md
from ui.app_summary import headline, plots_tab, strike_table, summary_tab
from ui.library import AnalysisRecord, Library
from ui.player import media_url, player, player_data

__all__ = ["review_view", "sidebar"]

#: Analyses listed in the sidebar before "Show all" (newest first); more than this also offers a search.
LIBRARY_PAGE = 15

_STATUS = {"done": "", "running": " · :material/hourglass_top: running", "failed": " · :material/error: not finished"}


def _title(rec: AnalysisRecord) -> str:
    return rec.runner or "Unnamed runner"


def _video_url(review: Review) -> str:
    try:
        return media_url(review.rec.folder / "proxy.mp4", f"gaitscope-proxy-{review.rec.id}")
    except (RuntimeError, OSError):
        return ""  # no server (tests): the player shows its loading message


def review_view(lib: Library, rec: AnalysisRecord) -> None:
    try:
        review = load_review(lib, rec)
    except GaitscopeError as exc:
        st.error(md(exc))
        return
    head, right = st.columns([4, 2], vertical_alignment="bottom")
    info = review.base.info
    head.markdown(f"### {md(_title(rec))}")
    head.caption(f"{md(rec.clip_name)} · analysed {rec.created_utc[:16].replace('T', ' ')} UTC · "
                 f"{info.duration_s:.1f} s · {info.frames} frames · {info.capture_fps:.0f} fps · "
                 f"runner faces {review.result.runner.get('faces', '?')}"
                 + (f" · height {rec.height_cm:.0f} cm" if rec.height_cm else ""))
    n_edits = len(review.edits)
    with right:
        c1, c2 = st.columns(2)
        if c1.button("Undo", disabled=not n_edits, key="undo", width="stretch",
                     icon=":material/undo:", help=f"Undo the last correction ({n_edits} so far)"):
            _apply(lib, review, {"action": "undo"})
        c2.download_button("analysis.json", (rec.folder / "analysis.json").read_bytes(),
                           file_name=f"{rec.id}_analysis.json", mime="application/json", width="stretch",
                           icon=":material/data_object:")
    headline(review.document)
    seek_key = f"review:seek:{rec.id}"
    seek = st.session_state.get(seek_key)
    if review.proxy is None:
        _player_pending(rec.id)
    else:
        data = player_data(review.result, review.proxy, rec.id, title=_title(rec))
        event = player(_video_url(review), data, seek=seek, key=f"player-{rec.id}")
        if event and event.get("nonce") != st.session_state.get(f"review:nonce:{rec.id}"):
            st.session_state[f"review:nonce:{rec.id}"] = event.get("nonce")
            _apply(lib, review, event)
    tabs = st.tabs(["Strikes", "Summary", "Plots", "Compare", "Export"])
    with tabs[0]:
        frame = strike_table(review.strikes, key=f"review:table:{rec.id}:{n_edits}")
        if frame is not None:
            st.session_state[seek_key] = {"frame": frame, "nonce": f"t{frame}-{id(object())}"}
            st.rerun()
    with tabs[1]:
        summary_tab(review)
    with tabs[2]:
        plots_tab(review.strikes)
    with tabs[3]:
        compare_tab(lib, rec, review.document)
    with tabs[4]:
        export_tab(review, lib.exports_dir(rec.id), lambda exc: log_unexpected(lib.log_path(), exc, "export"))


@st.fragment(run_every=0.5)
def _player_pending(analysis_id: str) -> None:
    """Progress of the player's proxy, which the analysis job writes after the results; the page
    reruns with the player when it is ready."""
    job = proxy_in_progress(analysis_id)
    if job is None:
        st.rerun()
        return
    s = job.status()
    st.progress(s.fraction, text=f"Preparing the frame-accurate player · {s.done}/{s.total} frames"
                + (f" · {s.eta_s:.0f} s left" if s.eta_s is not None else "")
                + ". The strikes, summary and plots below are ready.")


def _apply(lib: Library, review: Review, event: dict) -> None:
    toast = handle_event(lib, review, event)
    if toast:
        st.session_state["review:toast"] = toast
    st.rerun()


def show_toast() -> None:
    item = st.session_state.pop("review:toast", None)
    if item:
        kind, text = item
        st.toast(text[0].upper() + text[1:], icon={"success": "✅", "warning": "⚠️"}.get(kind, "ℹ️"))


def sidebar(lib: Library, current: str | None) -> None:
    with st.sidebar:
        st.markdown("## gaitscope")
        st.caption("Running-gait analysis from a side-on phone clip")
        if st.button("New analysis", icon=":material/add:", type="primary" if current else "secondary",
                     width="stretch"):
            close_analysis()
            st.rerun()
        st.markdown("#### Library")
        items = lib.analyses()
        if not items:
            st.caption("Nothing yet. Analyses you run are kept here.")
        if len(items) > LIBRARY_PAGE:
            query = st.text_input("Find", placeholder="Runner or clip name", key="library:find",
                                  label_visibility="collapsed", icon=":material/search:").strip().casefold()
            if query:
                items = [r for r in items if query in (r.runner or "").casefold() or query in r.clip_name.casefold()]
                if not items:
                    st.caption("No analysis matches.")
        hidden = 0 if st.session_state.get("library:all") else max(0, len(items) - LIBRARY_PAGE)
        for rec in items[:len(items) - hidden]:
            label = f"**{md(_title(rec))}**{_STATUS.get(rec.status, '')}  \n{rec.created_utc[:10]} · {md(rec.clip_name)}"
            with st.container(border=True):
                st.markdown(label if rec.id != current else f":material/play_arrow: {label}")
                c1, c2 = st.columns([3, 1])
                if c1.button("Open", key=f"open-{rec.id}", disabled=rec.id == current, width="stretch"):
                    open_analysis(rec.id)
                    st.rerun()
                with c2.popover("", icon=":material/delete:", help="Delete this analysis"):
                    st.caption("Delete this analysis, its corrections and exports? This cannot be undone.")
                    if st.button("Delete", key=f"del-{rec.id}", type="primary"):
                        jobs().stop_analysis(rec.id)  # its player proxy or an export may still be written
                        lib.delete_analysis(rec.id)
                        if rec.id == current:
                            close_analysis()
                        st.rerun()
        if hidden and st.button(f"Show all {len(items)}", key="library:show-all", width="stretch"):
            st.session_state["library:all"] = True
            st.rerun()
        st.divider()
        st.caption(f"Data folder: `{lib.root}`  \nSet GAITSCOPE_DATA to keep it elsewhere.")
