"""The Compare tab: this session against an earlier one of the same runner.

The numbers come from :func:`metrics.compare.compare_sessions`; this module picks the other
analysis, reads its strikes and shows the table, the shin-angle sentence and what makes two
sessions hard to compare (another pose model, frame rate or camera side).
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from metrics.compare import Change, compare_sessions, describe_shin_change, session_notes
from ui.app_summary import MEASURES
from ui.app_text import md
from ui.library import AnalysisRecord, Library
from vision.palette import side_hex

__all__ = ["compare_tab", "default_partner", "comparison_notes", "chosen_partner", "report_comparison"]

def default_partner(current: AnalysisRecord, others: list[AnalysisRecord]) -> AnalysisRecord | None:
    """The latest analysis of the same runner (by name) made before ``current``, if any."""
    name = (current.runner or "").strip().casefold()
    if not name:
        return None
    same = [r for r in others if (r.runner or "").strip().casefold() == name and r.created_utc < current.created_utc]
    return max(same, key=lambda r: r.created_utc, default=None)


def comparison_notes(this_doc: dict, other_doc: dict, this_rec: AnalysisRecord, other_rec: AnalysisRecord) -> list[str]:
    """What could make a difference between the two sessions other than the runner."""
    notes = session_notes(other_doc, this_doc)
    if (this_rec.runner or "").strip().casefold() != (other_rec.runner or "").strip().casefold():
        notes.append("The two analyses have different runner names.")
    return notes


def _document(rec: AnalysisRecord) -> dict | None:
    """An analysis's ``analysis.json`` (strikes as corrected), or None when it cannot be read."""
    try:
        doc = json.loads((rec.folder / "analysis.json").read_text(encoding="utf-8"))
        return doc if isinstance(doc.get("strikes"), list) else None
    except (OSError, ValueError, AttributeError):
        return None


def chosen_partner(rec: AnalysisRecord) -> AnalysisRecord | None:
    """The analysis chosen in this analysis's Compare tab, if any."""
    return st.session_state.get(f"compare:{rec.id}")


def report_comparison(rec: AnalysisRecord, document: dict):
    """The comparison the report shows: with the analysis chosen in the Compare tab, if readable."""
    from ui.report import Comparison

    partner = chosen_partner(rec)
    other = _document(partner) if partner is not None else None
    if other is None:
        return None
    return Comparison(partner.created_utc[:10], compare_sessions(other["strikes"], document.get("strikes") or []),
                      later=partner.created_utc > rec.created_utc)


def _fmt(value: float | None, scale: float, nd: int) -> str:
    return "–" if value is None else f"{value * scale:.{nd}f}"


def _table(rows: list[Change]) -> pd.DataFrame:
    labels = {key: (label, unit, scale, nd) for key, label, unit, scale, nd in MEASURES}
    out = []
    for r in rows:
        label, unit, scale, nd = labels.get(r.measure, (r.measure, "", 1.0, 1))
        out.append({
            "measure": label if unit.strip() in label else f"{label} ({unit.strip()})",
            "foot": r.foot,
            "other session": _fmt(r.before_mean, scale, nd) + (f" ± {_fmt(r.before_sd, scale, nd)}" if r.before_sd else "")
            + f"  (n={r.before_n})",
            "this session": _fmt(r.after_mean, scale, nd) + (f" ± {_fmt(r.after_sd, scale, nd)}" if r.after_sd else "")
            + f"  (n={r.after_n})",
            "change": "–" if r.change is None else f"{r.change * scale:+.{nd}f}",
            "95 % interval": "–" if r.ci_low is None else
            f"{r.ci_low * scale:+.{nd}f} to {r.ci_high * scale:+.{nd}f}",
            "verdict": r.verdict,
        })
    return pd.DataFrame(out)


def compare_tab(lib: Library, rec: AnalysisRecord, document: dict) -> None:
    """Choose another finished analysis and compare its strikes with this one's."""
    others = [r for r in lib.analyses() if r.status == "done" and r.id != rec.id]
    if not others:
        st.info("There is no other finished analysis to compare with yet. Analyse the runner's next visit, "
                "then compare the two here.")
        return
    partner = default_partner(rec, others)
    chosen = st.selectbox(
        "Compare with", others, index=others.index(partner) if partner in others else None,
        format_func=lambda r: f"{r.created_utc[:10]} · {r.runner or 'Unnamed runner'} · {r.clip_name}",
        placeholder="Choose an earlier analysis of this runner", key=f"compare:{rec.id}",
    )
    if chosen is None:
        return
    other_doc = _document(chosen)
    if other_doc is None:
        st.error("That analysis's results cannot be read (its folder is damaged or was moved). Run it again from "
                 "the library, then compare.")
        return
    rows = compare_sessions(other_doc["strikes"], document.get("strikes") or [])
    st.caption(f"Change = this session ({rec.created_utc[:10]}) minus the other ({chosen.created_utc[:10]}). "
               "The 95 % interval is how far the change could move by chance, from the strike-to-strike scatter; "
               "'changed' means the interval excludes zero and, for the shin and foot angles, the change is larger "
               "than clinicians' re-measurement error (Dingenen 2018). 'within error': the change may come from "
               "filming and marking, not the runner. The pose model understates shin-angle changes: on two "
               "hand-labelled clips of one runner, running normally and then overstriding, gaitscope measured "
               "+4 to +6° where the labels give +9 to +14°. Check the contact frames before calling a change "
               "too small to matter.")
    for note in comparison_notes(document, other_doc, rec, chosen):
        st.warning(md(note))
    for sentence in filter(None, map(describe_shin_change, rows)):
        st.markdown(sentence)
    st.dataframe(_table(rows), hide_index=True, width="stretch")
    chart = shin_chart(other_doc["strikes"], document.get("strikes") or [], chosen.created_utc[:10],
                       rec.created_utc[:10])
    if chart is not None:
        st.markdown("##### Shin angle at contact, every strike of both sessions")
        st.altair_chart(chart, width="stretch")
        st.caption("Dots: the strikes kept in each session; bars: their mean. Shaded: the other session's mean "
                   "± 4.8°, clinicians' re-measurement error; a mean inside it is not called a change.")


def shin_chart(before: list[dict], after: list[dict], before_label: str, after_label: str):
    """Strip plot of the kept strikes' shin angles, per foot, earlier session beside this one (None if no angles)."""
    import altair as alt

    from metrics.compare import REMEASUREMENT_ERROR

    if before_label == after_label:
        before_label, after_label = f"{before_label} (other)", f"{after_label} (this)"
    data = [{"session": label, "foot": s["foot"], "shin angle (°)": float(s["shin_angle_deg"]), "frame": s.get("ic_frame")}
            for label, strikes in ((before_label, before), (after_label, after)) for s in strikes
            if not s.get("rejected") and s.get("shin_angle_deg") is not None and s.get("foot") in ("left", "right")]
    if not data:
        return None
    df = pd.DataFrame(data)
    x = alt.X("session:N", sort=[before_label, after_label], title=None, axis=alt.Axis(labelAngle=0))
    err = REMEASUREMENT_ERROR["shin_angle_deg"]
    panels = []
    for foot in ("left", "right"):
        part = df[df["foot"] == foot]
        if part.empty:
            continue
        earlier = part[part["session"] == before_label]["shin angle (°)"]
        centre = float(earlier.mean()) if len(earlier) else 0.0
        scale = alt.Scale(domain=[min(centre - err, part["shin angle (°)"].min()) - 1,
                                  max(centre + err, part["shin angle (°)"].max()) + 1])
        y = alt.Y("shin angle (°):Q", scale=scale)
        band = alt.Chart(pd.DataFrame({"lo": [centre - err], "hi": [centre + err]})).mark_rect(
            opacity=0.10, color="#888").encode(y=alt.Y("lo:Q", scale=scale, title="shin angle (°)"), y2="hi:Q")
        dots = alt.Chart(part).transform_calculate(jitter="random()").mark_circle(
            size=60, opacity=0.75, color=side_hex(foot)).encode(
            x=x, xOffset=alt.XOffset("jitter:Q"), y=y,
            tooltip=["session", "frame", alt.Tooltip("shin angle (°):Q", format=".1f")])
        means = alt.Chart(part).mark_tick(thickness=3, size=40, color="#ddd").encode(x=x, y="mean(shin angle (°)):Q")
        panels.append(alt.layer(band, dots, means).properties(height=240, width=200, title=f"{foot} foot"))
    return alt.hconcat(*panels)
