"""The Export tab: annotated clips, contact stills and sheets, tables, the one-page report.

Files are written into the analysis folder's ``exports/`` (kept in the library) and offered
for download; the annotated clips also play in the page. Each export runs in the background
(:class:`ui.app_jobs.ExportJob`) from a snapshot of the strikes, so the page stays usable while
it is written. ``exports/made_from.json`` records which strikes each file shows, so a file is
flagged once the strikes are corrected after its snapshot.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from pathlib import Path

import streamlit as st

from ui.app_compare import chosen_partner, report_comparison
from ui.app_jobs import ExportJob, export_key
from ui.app_review import Review, export_source
from ui.app_state import jobs
from ui.app_text import md
from ui.results import atomic_write_text

__all__ = ["export_tab", "start_export", "run_export", "EXPORTS"]

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


def run_export(kind: str, src, out: Path, runner_name: str | None = None, on_progress=None,
               comparison=None) -> Path:
    """Write one export of ``src`` (an :class:`ui.export.ExportSource`) into ``out``; returns the file
    offered for download. ``comparison`` (:class:`ui.report.Comparison`) goes into the report."""
    from ui import export as ex

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

        return write_report(src, target, runner_name=runner_name, on_progress=on_progress, comparison=comparison)
    raise ValueError(f"unknown export {kind!r}")


#: In an exports folder: export file name -> fingerprint of the strikes it shows.
MADE_FROM = "made_from.json"
_made_from_lock = threading.Lock()


def strikes_fingerprint(document: dict) -> str:
    """A short hash of an analysis document's strikes (as edited): equal strikes, equal hash."""
    text = json.dumps(document.get("strikes") or [], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _made_from(exports_dir: Path) -> dict:
    """Export file name -> fingerprint of the strikes it shows ({} when there is no readable record)."""
    try:
        made = json.loads((exports_dir / MADE_FROM).read_text())
    except (OSError, ValueError):
        return {}
    return made if isinstance(made, dict) else {}


def _record_made_from(exports_dir: Path, name: str, fingerprint: str) -> None:
    with _made_from_lock:
        made = _made_from(exports_dir)
        made[name] = fingerprint
        atomic_write_text(exports_dir / MADE_FROM, json.dumps(made, indent=1))


def _stale_names(exports_dir: Path, review: Review) -> set[str]:
    """Exports that show other strikes than the analysis has now (made before a correction).

    An export without a record (made by an older gaitscope) is not flagged.
    """
    now = strikes_fingerprint(review.document)
    return {name for name, shown in _made_from(exports_dir).items() if shown != now}


def _stale(path: Path, review: Review) -> bool:
    """Whether the export at ``path`` was made before the latest correction."""
    return path.name in _stale_names(path.parent, review)


def start_export(kind: str, review: Review, exports_dir: Path, log_error, comparison=None) -> ExportJob:
    """Start writing one export in the background, from the strikes as they are now."""
    src = export_source(review)  # a snapshot: corrections made while it is written are not in it
    runner = review.rec.runner
    shown = strikes_fingerprint(review.document)

    def make(progress) -> Path:
        path = run_export(kind, src, exports_dir, runner, progress, comparison)
        _record_made_from(exports_dir, path.name, shown)  # so a later correction marks it stale
        return path

    return jobs().submit(ExportJob(export_key(review.rec.id, kind), make, log_error))


def export_tab(review: Review, exports_dir: Path, log_error) -> None:
    """One row per export: Make (in the background, with progress and Cancel), Download, status."""
    st.caption(f"Exports are kept with this analysis in {exports_dir}. They are made in the background: "
               "you can go on reviewing while they are written.")
    if not review.strikes:
        st.info("There are no strikes to export yet.")
    stale_names = _stale_names(exports_dir, review)  # one read of the record for all rows
    partner = chosen_partner(review.rec)
    if partner is not None:
        st.caption(f"The report compares with the session of {partner.created_utc[:10]} chosen in Compare.")
    for kind, (label, name, help_text) in EXPORTS.items():
        path = exports_dir / name
        job = jobs().get(export_key(review.rec.id, kind))
        status = job.status() if job is not None else None
        running = status is not None and status.state == "running"
        c1, c2, c3 = st.columns([2.2, 1.2, 3])
        made = path.is_file()
        stale = made and name in stale_names
        if running:
            if c1.button(f"Cancel: {label}", key=f"exp-cancel-{kind}", width="stretch",
                         icon=":material/stop_circle:"):
                job.cancel()
                job.join(5.0)
                st.rerun()
            with c3:
                _progress(job.key, " frames" if kind in ("annotated", "strikes") else "")
            continue
        if c1.button(f"{'Remake' if made else 'Make'}: {label}", key=f"exp-{kind}", help=help_text,
                     width="stretch", icon=":material/refresh:" if made else ":material/movie:"):
            start_export(kind, review, exports_dir, log_error,
                         report_comparison(review.rec, review.document) if kind == "report" else None)
            st.rerun()
        if status is not None and status.state == "failed":
            c3.error(md(status.message))
        elif status is not None and status.state == "cancelled":
            c3.info(status.message)
        if made:
            c2.download_button("Download", lambda p=path: p.read_bytes(), file_name=_download_name(review, name),
                               mime=_MIME.get(path.suffix, "application/octet-stream"), key=f"dl-{kind}",
                               icon=":material/download:", width="stretch")
            took = status.elapsed_s if status is not None and status.state == "done" else None
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


@st.fragment(run_every=0.5)
def _progress(key: str, unit: str) -> None:
    """A running export's progress, refreshed twice a second; the whole page reruns when it ends."""
    job = jobs().get(key)
    s = job.status() if job is not None else None
    if s is None or s.state != "running":
        st.rerun()
        return
    text = f"{s.done}/{s.total}{unit}" if s.total else "Starting…"
    if s.rate_per_s > 0 and s.eta_s is not None:
        text += f" · {s.eta_s:.0f} s left"
    st.progress(s.fraction, text=text)


def _download_name(review: Review, name: str) -> str:
    who = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in (review.rec.runner or "gaitscope"))[:40]
    return f"{who}_{review.rec.created_utc[:10]}_{name}"
