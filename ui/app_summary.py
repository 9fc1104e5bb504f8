"""The strike table, the summary (figures, findings, warnings) and the per-strike plots."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from metrics.landmarks import SIDES
from vision.palette import REJECTED_RGB, rgb_hex, side_hex

__all__ = ["strike_table", "summary_tab", "plots_tab", "headline", "MEASURES"]

MEASURES = (  # key, label, unit, scale, decimals
    ("shin_angle_deg", "Shin angle at contact", "°", 1.0, 1),
    ("knee_flexion_deg", "Knee flexion at contact", "°", 1.0, 0),
    ("foot_angle_deg", "Foot angle at contact", "°", 1.0, 0),
    ("overstride", "Overstride (% leg length)", "%", 100.0, 0),
    ("overstride_cm", "Overstride", " cm", 1.0, 1),
    ("contact_time_ms", "Contact time", " ms", 1.0, 0),
    ("step_time_ms", "Step time", " ms", 1.0, 0),
)


def _pm(stat: dict | None, unit: str, scale: float, nd: int) -> str:
    if not stat or stat.get("mean") is None:
        return "–"
    text = f"{stat['mean'] * scale:.{nd}f}"
    if stat.get("sd") is not None:
        text += f" ± {stat['sd'] * scale:.{nd}f}"
    return text + unit


def headline(doc: dict) -> None:
    """The key figures in one row of metrics."""
    s = doc.get("summary") or {}
    pf = s.get("per_foot") or {}
    used = s.get("usable_strikes") or {}
    cols = st.columns(5)
    cad = s.get("cadence_spm")
    cols[0].metric("Cadence", f"{cad:.0f} spm" if cad else "–", help="Steps per minute, both feet.")
    cols[1].metric("Strikes used", f"L {used.get('left', 0)} · R {used.get('right', 0)}",
                   help="Strikes counted in the summary (rejected ones are left out).")
    for col, side in zip(cols[2:4], SIDES):
        col.metric(f"Shin angle {side}", _pm((pf.get(side) or {}).get("shin_angle_deg"), "°", 1.0, 1),
                   help="Mean ± SD at initial contact; + = ankle ahead of the knee.")
    ov = [(pf.get(side) or {}).get("overstride_cm") or {} for side in SIDES]
    if all(o.get("mean") is not None for o in ov):
        text = " · ".join(f"{o['mean']:.0f}" for o in ov) + " cm"
    else:
        ov = [(pf.get(side) or {}).get("overstride") or {} for side in SIDES]
        text = " · ".join("–" if o.get("mean") is None else f"{100 * o['mean']:.0f}" for o in ov) + " % leg"
    cols[4].metric("Overstride L · R", text, help="Heel ahead of the hip at contact.")


def _table(strikes: list[dict]) -> pd.DataFrame:
    rows = []
    for n, s in enumerate(strikes, start=1):
        status = "rejected" if s.get("rejected") else ""
        if s.get("edited"):
            status = f"edited{', ' + status if status else ''}"
        ov = s.get("overstride")
        rows.append({
            "#": n, "foot": "L" if s["foot"] == "left" else "R", "frame": s["ic_frame"],
            "time (s)": s.get("ic_time_s"), "status": status, "shin (°)": s.get("shin_angle_deg"),
            "knee (°)": s.get("knee_flexion_deg"), "foot (°)": s.get("foot_angle_deg"),
            "pattern": s.get("strike_pattern") or "", "overstride (% leg)": None if ov is None else 100 * ov,
            "overstride (cm)": s.get("overstride_cm"), "contact (ms)": s.get("contact_time_ms"),
            "confidence": s.get("confidence"), "flags": ", ".join(s.get("flags") or []),
        })
    df = pd.DataFrame(rows)
    for col in df.columns:
        if col not in ("foot", "pattern", "flags", "status"):
            df[col] = pd.to_numeric(df[col], errors="coerce")
    return df


def strike_table(strikes: list[dict], key: str) -> int | None:
    """The strike table; returns the IC frame of a newly chosen row, else None."""
    if not strikes:
        st.info("No strikes were found. Step through the clip in the player and add them with "
                "'+ L strike here' / '+ R strike here'.")
        return None
    df = _table(strikes)
    if df["overstride (cm)"].isna().all():
        df = df.drop(columns=["overstride (cm)"])
    else:  # centimetres when the runner's height is known
        df = df.drop(columns=["overstride (% leg)"])
    cfg = {
        "#": st.column_config.NumberColumn(width="small"),
        "time (s)": st.column_config.NumberColumn(format="%.3f"),
        "shin (°)": st.column_config.NumberColumn(format="%.1f"),
        "knee (°)": st.column_config.NumberColumn(format="%.0f", help="Knee flexion at contact"),
        "foot (°)": st.column_config.NumberColumn(format="%.0f"),
        "overstride (% leg)": st.column_config.NumberColumn(format="%.0f"),
        "overstride (cm)": st.column_config.NumberColumn(format="%.1f"),
        "contact (ms)": st.column_config.NumberColumn(format="%.0f"),
        "confidence": st.column_config.ProgressColumn(format="%.2f", min_value=0.0, max_value=1.0, width="small"),
    }
    st.caption("Choose a row to jump the player to that strike. Edited and rejected strikes are marked in "
               "'status'; rejected strikes are left out of the summary.")
    event = st.dataframe(df, hide_index=True, column_config=cfg, on_select="rerun", selection_mode="single-row",
                         key=key, width="stretch", height=min(420, 38 + 35 * len(df)))
    rows = list(event.selection.rows) if event and event.selection else []
    sel = (rows[0], len(df)) if rows else None
    last_key = f"{key}:last"
    if sel != st.session_state.get(last_key):
        st.session_state[last_key] = sel
        if sel and sel[0] < len(strikes):
            return int(strikes[sel[0]]["ic_frame"])
    return None


def _findings(review) -> list[str]:
    try:
        from ui.app_review import export_source
        from ui.report import findings, report_numbers

        return findings(report_numbers(export_source(review)))
    except ImportError:
        return []


def summary_tab(review) -> None:
    doc = review.document
    s = doc.get("summary") or {}
    pf = s.get("per_foot") or {}
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("##### Key findings")
        facts = _findings(review)
        if facts:
            st.markdown("\n".join(f"- {f}" for f in facts))
        else:
            st.caption("Not enough usable strikes for findings.")
        st.markdown("##### Per foot (mean ± SD over the strikes used)")
        rows = []
        asym = s.get("asymmetry_pct") or {}
        diff = s.get("asymmetry_diff") or {}
        for key, label, unit, scale, nd in MEASURES:
            vals = [(pf.get(side) or {}).get(key) for side in SIDES]
            if all(not v or v.get("mean") is None for v in vals):
                continue
            a = asym.get(key)
            d = diff.get(key)
            a_text = f"{a:.1f} %" if a is not None else (f"{d * scale:+.{nd}f}{unit}" if d is not None else "–")
            rows.append({"measure": label, "left": _pm(vals[0], unit, scale, nd),
                         "right": _pm(vals[1], unit, scale, nd), "asymmetry (L−R)": a_text})
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    with right:
        pat = s.get("strike_pattern_counts") or {}
        st.markdown("##### Strike pattern")
        if sum(pat.values() or [0]):
            st.dataframe(pd.DataFrame([{"pattern": k, "strikes": v} for k, v in pat.items()]), hide_index=True,
                         width="stretch")
        cad = s.get("cadence_spm")
        st.markdown(f"**Cadence** {cad:.0f} steps/min" if cad else "**Cadence** –")
        st.markdown("##### Checks")
        warnings = review.warnings
        if warnings:
            for w in warnings:
                st.warning(w, icon=":material/warning:")
        else:
            st.success("No warnings: side view, level camera, enough confident strikes.", icon=":material/check:")


def plots_tab(strikes: list[dict]) -> None:
    rows = [{"time (s)": s["ic_time_s"], "shin angle (°)": s["shin_angle_deg"], "foot": s["foot"],
             "status": "rejected" if s.get("rejected") else "used", "frame": s["ic_frame"],
             "overstride (% leg)": None if s.get("overstride") is None else 100 * s["overstride"]}
            for s in strikes if s.get("shin_angle_deg") is not None]
    if not rows:
        st.info("No shin angles to plot.")
        return
    df = pd.DataFrame(rows)
    colours = alt.Scale(domain=["left", "right"], range=[side_hex("left"), side_hex("right")])
    for measure in ("shin angle (°)", "overstride (% leg)"):
        base = alt.Chart(df.dropna(subset=[measure]))
        used = base.transform_filter(alt.datum.status == "used")
        line = used.mark_line(point=alt.OverlayMarkDef(size=50, filled=True)).encode(
            x=alt.X("time (s):Q"), y=alt.Y(f"{measure}:Q", scale=alt.Scale(zero=False), title=measure),
            color=alt.Color("foot:N", scale=colours), tooltip=["foot", "frame", "time (s)", measure])
        rule = used.mark_rule(strokeDash=[4, 3], opacity=0.7).encode(
            y=alt.Y(f"mean({measure}):Q", title=measure), color=alt.Color("foot:N", scale=colours))
        rej = base.transform_filter(alt.datum.status == "rejected").mark_point(
            shape="circle", size=60, filled=False, color=rgb_hex(REJECTED_RGB)).encode(
            x="time (s):Q", y=alt.Y(f"{measure}:Q", title=measure), tooltip=["foot", "frame", "status", measure])
        st.markdown(f"##### {measure.split(' (')[0].capitalize()} per strike")
        st.altair_chart((line + rule + rej).properties(height=220), width="stretch")
    st.caption("Dashed lines: each foot's mean over the strikes used. Hollow grey circles: rejected strikes. "
               "Foot height over time, with contacts and toe-offs, is under the player and follows its cursor.")
