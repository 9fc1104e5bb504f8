"""The one-page HTML report: key numbers, a plain-English sentence per finding, the shin
angle of every strike per foot, contact snapshots and warnings.

Self-contained: images are embedded as base64 ``data:`` URIs, styles are inline, nothing
is fetched. Every string that comes from the user or the file system (runner name, clip
name, warnings) is escaped with :func:`html.escape`. Prints on one A4 page.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metrics.compare import REMEASUREMENT_ERROR, describe_shin_change
from metrics.landmarks import SIDES
from ui.export import ExportError, ExportSource, ProgressFn, atomic_write_bytes
from vision.palette import REJECTED_RGB, rgb_hex, side_hex

__all__ = ["Comparison", "report_numbers", "findings", "shin_plot_png", "snapshot_strip", "build_report_html", "write_report",
           "write_report_pdf"]

#: Clinicians re-measuring the tibia angle disagree by up to 2.2-4.8 deg (Dingenen 2018);
#: left-right differences below the upper bound are not called a difference.
SHIN_SDD_DEG = REMEASUREMENT_ERROR["shin_angle_deg"]
#: Contact snapshots per foot in the report (one row each).
REPORT_SNAPSHOTS_PER_FOOT = 4
#: Strikes per foot to average for a stable tibia angle (Dingenen 2018).
MIN_STRIKES_PER_FOOT = 7


def _kept(strikes) -> list[dict]:
    return [s for s in strikes if not s.get("rejected")]


def _stats(values) -> dict:
    v = np.array([x for x in values if x is not None], float)
    v = v[np.isfinite(v)]
    return {"mean": float(v.mean()) if v.size else None, "sd": float(v.std(ddof=1)) if v.size > 1 else None,
            "n": int(v.size)}


def report_numbers(src: ExportSource) -> dict:
    """Per-foot statistics (mean, SD, n) of the kept strikes, cadence and pattern counts.

    Statistics are computed from the strikes shown (edits included); cadence comes from
    the analysis summary.
    """
    kept = _kept(src.strikes)
    measures = ("shin_angle_deg", "overstride", "overstride_cm", "contact_time_ms", "knee_flexion_deg")
    per_foot = {side: {m: _stats([s.get(m) for s in kept if s.get("foot") == side]) for m in measures}
                for side in SIDES}
    patterns = {p: sum(1 for s in kept if s.get("strike_pattern") == p) for p in ("rearfoot", "midfoot", "forefoot")}
    return {
        "cadence_spm": src.summary.get("cadence_spm"),
        "per_foot": per_foot,
        "patterns": patterns,
        "n_kept": {side: sum(1 for s in kept if s.get("foot") == side) for side in SIDES},
        "n_rejected": sum(1 for s in src.strikes if s.get("rejected")),
    }


def _diff(per_foot: dict, measure: str, fmt: str, unit: str = "", scale: float = 1.0, percent: bool = False) -> str:
    """Left minus right of the per-foot means (and, for times, as a % of their mean)."""
    a, b = per_foot["left"][measure]["mean"], per_foot["right"][measure]["mean"]
    if a is None or b is None:
        return "-"
    text = format((a - b) * scale, "+" + fmt) + unit
    if percent and a + b > 0:
        text += f" ({100 * abs(a - b) / ((a + b) / 2):.0f}%)"
    return text


def _pm(st: dict, fmt: str, unit: str = "", scale: float = 1.0) -> str:
    if st["mean"] is None:
        return "-"
    text = format(st["mean"] * scale, fmt)
    if st["sd"] is not None:
        text += " ± " + format(st["sd"] * scale, fmt)
    return text + unit


def findings(numbers: dict) -> list[str]:
    """One plain-English sentence per key finding (plain text; escape before use in HTML)."""
    out: list[str] = []
    pf = numbers["per_foot"]
    cad = numbers["cadence_spm"]
    if cad:
        out.append(f"Cadence was {cad:.0f} steps per minute (both feet together).")
    sh = {s: pf[s]["shin_angle_deg"]["mean"] for s in SIDES}
    if all(v is not None for v in sh.values()):
        diff = sh["left"] - sh["right"]
        text = (f"At initial contact the shin angle averaged {sh['left']:.1f}° on the left and {sh['right']:.1f}° on "
                "the right (0° = vertical shin; positive = ankle ahead of the knee).")
        if abs(diff) > SHIN_SDD_DEG:
            bigger = "left" if diff > 0 else "right"
            text += (f" The {bigger} side is {abs(diff):.1f}° more positive, more than the re-measurement error "
                     f"of this angle (up to {SHIN_SDD_DEG}°).")
        else:
            text += (f" The {abs(diff):.1f}° difference between sides is within the re-measurement error "
                     f"of this angle (up to {SHIN_SDD_DEG}°).")
        out.append(text)
    ov = {s: pf[s]["overstride"]["mean"] for s in SIDES}
    if all(v is not None for v in ov.values()):
        cm = {s: pf[s]["overstride_cm"]["mean"] for s in SIDES}
        extra = f" ({cm['left']:.0f} and {cm['right']:.0f} cm)" if all(v is not None for v in cm.values()) else ""
        out.append(f"The heel landed {100 * ov['left']:.0f}% (left) and {100 * ov['right']:.0f}% (right) of leg length "
                   f"ahead of the hip{extra}; a smaller distance means the foot lands closer under the body.")
    ct = {s: pf[s]["contact_time_ms"]["mean"] for s in SIDES}
    if all(v is not None for v in ct.values()):
        asym = 100 * abs(ct["left"] - ct["right"]) / ((ct["left"] + ct["right"]) / 2)
        out.append(f"Each foot stayed on the belt for {ct['left']:.0f} ms (left) and {ct['right']:.0f} ms (right), "
                   f"a {asym:.1f}% difference between sides.")
    pat = numbers["patterns"]
    if sum(pat.values()):
        main = max(pat, key=pat.get)
        out.append(f"Most contacts were {main} strikes ({pat[main]} of {sum(pat.values())}: "
                   f"{pat['rearfoot']} rearfoot, {pat['midfoot']} midfoot, {pat['forefoot']} forefoot).")
    few = [s for s in SIDES if numbers["n_kept"][s] < MIN_STRIKES_PER_FOOT]
    if few:
        out.append(f"Fewer than {MIN_STRIKES_PER_FOOT} usable strikes for the {' and '.join(few)} foot: "
                   "film a longer clip for a stable average.")
    return out


def shin_plot_png(strikes, dpi: int = 110) -> bytes:
    """Shin angle at contact per strike, one panel per foot, mean and ± 1 SD band; rejected strikes hollow."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, 1.8), dpi=dpi)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, side in zip(axes, SIDES):
        rows = [(n, s) for n, s in enumerate(strikes, start=1)
                if s.get("foot") == side and s.get("shin_angle_deg") is not None]
        kept = [(n, s["shin_angle_deg"]) for n, s in rows if not s.get("rejected")]
        rej = [(n, s["shin_angle_deg"]) for n, s in rows if s.get("rejected")]
        colour = side_hex(side)
        if kept:
            x, y = zip(*kept)
            ax.plot(x, y, "o-", color=colour, lw=1.2, ms=4, label="kept")
            m = float(np.mean(y))
            ax.axhline(m, color=colour, lw=1, ls="--")
            if len(y) > 1:
                sd = float(np.std(y, ddof=1))
                ax.axhspan(m - sd, m + sd, color=colour, alpha=0.15, lw=0)
        if rej:
            x, y = zip(*rej)
            ax.plot(x, y, "o", mfc="none", mec=rgb_hex(REJECTED_RGB), ms=5, label="rejected")
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_title(f"{side} foot", fontsize=9, color="0.2")
        ax.set_xlabel("strike number", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, lw=0.5)
    axes[0].set_ylabel("shin angle at contact (°)", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _data_uri(data: bytes) -> str:
    mime = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def snapshot_strip(side: str, items, n: int = REPORT_SNAPSHOTS_PER_FOOT) -> np.ndarray | None:
    """One row of up to ``n`` kept contacts of a foot, spread evenly over the clip."""
    from ui.export_frames import contact_sheet, sheet_title

    kept = [it for it in items if not it[0].rejected]
    if not kept:
        return None
    pick = sorted({int(round(k)) for k in np.linspace(0, len(kept) - 1, min(n, len(kept)))})
    title = sheet_title(side, items)
    return contact_sheet(side, [kept[k] for k in pick], title, columns=n, text_scale=1.5)


_CSS = """
@page { size: A4; margin: 8mm; }
@media print { body { font-size: 10.5px; padding: 0; } h1 { font-size: 16px; } img { break-inside: avoid; } }
body { font: 12px/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #222; max-width: 190mm;
       margin: 0 auto; padding: 8px; }
h1 { font-size: 18px; margin: 0 0 2px; } .sub { color: #555; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; } th, td { padding: 3px 6px; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { border-bottom: 1px solid #999; }
tbody tr:nth-child(odd) { background: #f4f4f4; } .swatch { display: inline-block; width: 10px; height: 10px;
 border-radius: 2px; margin-right: 4px; vertical-align: middle; }
ul { margin: 4px 0 6px 18px; padding: 0; } img { max-width: 100%; display: block; margin: 4px 0; }
.warn { color: #8a4b00; }
.snaps { display: flex; gap: 4px; } .snaps img { width: calc(50% - 2px); margin: 0; }
.foot { color: #777; font-size: 10px; margin-top: 6px; }
"""


@dataclass(frozen=True)
class Comparison:
    """An earlier session set against this one in the report (rows of :func:`metrics.compare.compare_sessions`)."""

    other_date: str  # the other session's date (usually earlier: see ``later``)
    rows: list
    later: bool = False  # the other session came after this one


#: Measures in the report's comparison table: key, label, format, unit, scale.
_COMPARED = (("shin_angle_deg", "shin angle at contact", ".1f", "°", 1.0),
             ("overstride", "overstride (% leg length)", ".0f", "%", 100.0),
             ("overstride_cm", "overstride (cm)", ".0f", " cm", 1.0),
             ("knee_flexion_deg", "knee flexion at contact", ".0f", "°", 1.0),
             ("contact_time_ms", "contact time", ".0f", " ms", 1.0))


def _comparison_html(cmp: Comparison) -> list[str]:
    e = html.escape
    title = f"Against the later session of {cmp.other_date}" if cmp.later else f"Since {cmp.other_date}"
    parts = [f"<h2 style='font-size:14px;margin:8px 0 2px'>{e(title)}</h2>",
             "<table><thead><tr><th>measure</th><th>foot</th>"
             + ("<th>later session</th><th>this session</th>" if cmp.later else "<th>then</th><th>now</th>")
             + "<th>change</th>"
             "<th>verdict</th></tr></thead><tbody>"]
    for key, label, fmt, unit, scale in _COMPARED:
        for r in (r for r in cmp.rows if r.measure == key and r.change is not None):
            parts.append("<tr>" + "".join(f"<td>{e(v)}</td>" for v in (
                label, r.foot, f"{r.before_mean * scale:{fmt}}{unit}", f"{r.after_mean * scale:{fmt}}{unit}",
                f"{r.change * scale:+{fmt}}{unit}", r.verdict)) + "</tr>")
    parts.append("</tbody></table><ul>")
    parts.extend(f"<li>{e(t)}</li>" for t in map(describe_shin_change, cmp.rows) if t)
    parts.append("</ul>")
    return parts


def build_report_html(src: ExportSource, runner_name: str = "", date: str | None = None,
                      snapshots: dict[str, bytes] | None = None, clip_name: str | None = None,
                      comparison: Comparison | None = None) -> str:
    """The report as one HTML string (see module notes); ``comparison`` adds a 'Since <date>' table."""
    e = html.escape
    n = report_numbers(src)
    pf = n["per_foot"]
    date = date or _dt.date.today().isoformat()
    clip = clip_name or Path(src.info.path).name
    rows = [
        ("strikes used", *(str(n["n_kept"][s]) for s in SIDES), ""),
        ("shin angle at contact", *(_pm(pf[s]["shin_angle_deg"], ".1f", "°") for s in SIDES),
         _diff(pf, "shin_angle_deg", ".1f", "°")),
        ("overstride (% leg length)", *(_pm(pf[s]["overstride"], ".0f", "%", 100) for s in SIDES),
         _diff(pf, "overstride", ".0f", "%", 100)),
        ("overstride (cm)", *(_pm(pf[s]["overstride_cm"], ".0f", " cm") for s in SIDES),
         _diff(pf, "overstride_cm", ".0f", " cm")),
        ("contact time", *(_pm(pf[s]["contact_time_ms"], ".0f", " ms") for s in SIDES),
         _diff(pf, "contact_time_ms", ".0f", " ms", percent=True)),
        ("knee flexion at contact", *(_pm(pf[s]["knee_flexion_deg"], ".0f", "°") for s in SIDES),
         _diff(pf, "knee_flexion_deg", ".0f", "°")),
    ]
    rows = [r for r in rows if any(v != "-" for v in r[1:3])]
    pat = n["patterns"]
    swatch = {s: f'<span class="swatch" style="background:{side_hex(s)}"></span>' for s in SIDES}
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>gaitscope report: {e(runner_name or clip)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Running gait report{': ' + e(runner_name) if runner_name else ''}</h1>",
        f"<p class='sub'>{e(date)} &middot; clip {e(clip)} &middot; {src.info.duration_s:.1f} s, "
        f"{src.info.frames} frames at {src.info.capture_fps:.0f} fps &middot; runner faces {e(src.faces)}</p>",
        "<table><thead><tr><th>measure</th>" + "".join(f"<th>{swatch[s]}{s}</th>" for s in SIDES)
        + "<th title='left minus right; for times also as a share of their mean'>left − right</th></tr></thead><tbody>",
    ]
    for r in rows:
        parts.append("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>")
    cad = n["cadence_spm"]
    parts.append("</tbody></table>")
    parts.append(f"<p><b>Cadence</b> {cad:.0f} steps/min" if cad else "<p><b>Cadence</b> -")
    parts.append(f" &middot; <b>strike pattern</b> {pat['rearfoot']} rearfoot, {pat['midfoot']} midfoot, "
                 f"{pat['forefoot']} forefoot &middot; {n['n_rejected']} strike(s) rejected</p>")
    if comparison is not None:
        parts.extend(_comparison_html(comparison))
    facts = findings(n)
    if facts:
        parts.append("<h2 style='font-size:14px;margin:6px 0 0'>Findings</h2><ul>")
        parts.extend(f"<li>{e(f)}</li>" for f in facts)
        parts.append("</ul>")
    if any(s.get("shin_angle_deg") is not None for s in src.strikes):
        parts.append(f"<img alt='shin angle per strike' src='{_data_uri(shin_plot_png(src.strikes))}'>")
    if snapshots:
        parts.append("<div class='snaps'>")
        parts.extend(f"<img alt='{s} foot contacts' src='{_data_uri(snapshots[s])}'>" for s in SIDES if s in snapshots)
        parts.append("</div>")
    if src.warnings:
        parts.append("<ul class='warn'>" + "".join(f"<li>{e(str(w))}</li>" for w in src.warnings) + "</ul>")
    parts.append("<p class='foot'>Shin angle: knee-to-ankle line against the vertical (the belt's normal), "
                 "positive when the ankle is ahead of the knee. Overstride: heel ahead of the hip along the belt, "
                 "as a share of leg length. Values are means ± SD over the strikes kept. Made with gaitscope.</p>")
    parts.append("</body></html>")
    return "".join(parts)


def write_report(src: ExportSource, path: str | os.PathLike, runner_name: str = "", date: str | None = None,
                 cells: dict | None = None, on_progress: ProgressFn | None = None,
                 with_snapshots: bool = True, comparison: Comparison | None = None) -> Path:
    """Write the report atomically.

    ``cells`` are the contact crops of :func:`ui.export_frames.contact_cells` (or filled by
    ``export_contacts(cells_out=...)``); they are made here (one decode pass) when not given.
    """
    from ui.export_frames import contact_cells, jpeg_bytes

    snapshots = None
    if with_snapshots and src.strikes:
        if cells is None:
            cells = contact_cells(src, on_progress=on_progress)
        strips = {side: snapshot_strip(side, items) for side, items in cells.items()}
        snapshots = {side: jpeg_bytes(img) for side, img in strips.items() if img is not None}
    text = build_report_html(src, runner_name, date, snapshots, comparison=comparison)
    return atomic_write_bytes(path, text.encode("utf-8"))


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    return None


def write_report_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, timeout_s: float = 120.0) -> Path:
    """Print the HTML report to PDF with a locally installed Chromium (Debian package ``chromium``).

    Raises :class:`ExportError` when no Chromium is installed or printing fails.
    """
    exe = _chromium()
    if exe is None:
        raise ExportError("PDF export needs Chromium (Debian: apt-get install chromium); the HTML report "
                          "prints to PDF from any browser too.")
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    tmp = pdf_path.with_name(f".{pdf_path.name}.part")
    with tempfile.TemporaryDirectory(prefix="gaitscope-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", html_path.as_uri()]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=timeout_s)
            if not tmp.is_file() or tmp.stat().st_size == 0:
                raise ExportError(f"Chromium did not write {pdf_path.name}")
            os.replace(tmp, pdf_path)
        except (OSError, subprocess.SubprocessError) as exc:
            tmp.unlink(missing_ok=True)
            raise ExportError(f"could not print {pdf_path.name} with Chromium: {exc}") from None
        except ExportError:
            tmp.unlink(missing_ok=True)
            raise
    return pdf_path
