"""The Export tab: annotated clips, contact stills and sheets, tables, the one-page report.

Files are written into the analysis folder's ``exports/`` (kept in the library) and offered
for download; the annotated clips also play in the page.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import streamlit as st

from metrics.errors import GaitscopeError
from ui.app_review import Review, export_source
from ui.app_text import md

__all__ = ["export_tab", "EXPORTS"]

#: kind -> (button label, file(s) it makes, help)
EXPORTS = {
    "annotated": ("Annotated clip (MP4)", "annotated.mp4", "The whole clip with the analysis drawn on it."),
    "strikes": ("Strikes-only clip (MP4)", "strikes.mp4", "Each contact slowed down and held, one after another."),
    "contacts": ("Contact frames (PNG) and sheets", "contacts.zip", "A still of every contact and a sheet per foot."),
    "tables": ("Tables (CSV, JSON)", "tables.zip", "strikes.csv, summary.csv and a JSON of strikes and summary."),
    "report": ("One-page report (HTML)", "report.html", "Figures, findings, shin-angle plot and contact sheets."),
}
_MIME = {".mp4": "video/mp4", ".zip": "application/zip", ".html": "text/html"}


def _zip(files: list[Path], root: Path, target: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in files:
            z.write(p, p.relative_to(root).as_posix())
    from ui.export import atomic_write_bytes  # removes the partial file and says so when the disk is full

    return atomic_write_bytes(target, buf.getvalue())


def run_export(kind: str, review: Review, out: Path, on_progress=None) -> Path:
    """Write one export into ``out``; returns the file offered for download."""
    from ui import export as ex

    src = export_source(review)
    target = out / EXPORTS[kind][1]
    if kind == "annotated":
        return ex.export_annotated_clip(src, target, on_progress=on_progress)
    if kind == "strikes":
        return ex.export_strikes_clip(src, target, on_progress=on_progress)
    if kind == "contacts":
        from ui.export_frames import export_contacts

        files = export_contacts(src, out / "stills", on_progress=on_progress)
        return _zip(files, out / "stills", target)
    if kind == "tables":
        files = ex.export_tables(src, out / "tables")
        return _zip(files, out / "tables", target)
    if kind == "report":
        from ui.report import write_report

        return write_report(src, target, runner_name=review.rec.runner, on_progress=on_progress)
    raise ValueError(f"unknown export {kind!r}")


def _stale(path: Path, review: Review) -> bool:
    """An export made before the latest edit no longer matches the strikes."""
    doc = review.rec.folder / "analysis.json"
    return path.stat().st_mtime < doc.stat().st_mtime if doc.exists() else False


def export_tab(review: Review, exports_dir: Path, log_error) -> None:
    st.caption(f"Exports are kept with this analysis in {exports_dir}.")
    if not review.strikes:
        st.info("There are no strikes to export yet.")
    for kind, (label, name, help_text) in EXPORTS.items():
        path = exports_dir / name
        c1, c2, c3 = st.columns([2.2, 1.2, 3])
        made = path.is_file()
        stale = made and kind != "tables" and _stale(path, review)
        if c1.button(f"{'Remake' if made else 'Make'}: {label}", key=f"exp-{kind}", help=help_text,
                     width="stretch", icon=":material/refresh:" if made else ":material/movie:"):
            bar = c3.progress(0.0, text="Starting…")
            t0 = time.monotonic()

            def progress(done: int, total: int) -> bool:
                bar.progress(min(1.0, done / max(1, total)), text=f"{done}/{total} frames")
                return True
            try:
                path = run_export(kind, review, exports_dir, progress)
            except GaitscopeError as exc:
                bar.empty()
                c3.error(md(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - logged with an id, friendly message on the page
                bar.empty()
                c3.error(f"The export failed (error {log_error(exc)}). Your analysis is unchanged; try again.")
                continue
            bar.empty()
            st.session_state[f"exp-time-{kind}"] = time.monotonic() - t0
            made, stale = True, False
        if made:
            c2.download_button("Download", lambda p=path: p.read_bytes(), file_name=_download_name(review, name),
                                   mime=_MIME.get(path.suffix, "application/octet-stream"), key=f"dl-{kind}",
                                   icon=":material/download:", width="stretch")
            took = st.session_state.get(f"exp-time-{kind}")
            note = f"{path.stat().st_size / 1e6:.1f} MB" + (f" · made in {took:.0f} s" if took else "")
            c3.caption(("⚠ made before your last correction; remake it. · " if stale else "") + note)
    clips = [(k, exports_dir / EXPORTS[k][1]) for k in ("annotated", "strikes")]
    clips = [(k, p) for k, p in clips if p.is_file()]
    if clips:
        portrait = review.base.info.height > review.base.info.width
        cols = st.columns([1, 1, 1] if portrait else [1, 1])
        for col, (kind, p) in zip(cols, clips):
            col.markdown(f"##### {EXPORTS[kind][0]}")
            col.video(str(p))


def _download_name(review: Review, name: str) -> str:
    who = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in (review.rec.runner or "gaitscope"))[:40]
    return f"{who}_{review.rec.created_utc[:10]}_{name}"
