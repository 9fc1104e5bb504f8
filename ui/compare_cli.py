"""Compare two analyses of one runner: per-foot change, its 95 % interval and a verdict.

    gaitscope compare EARLIER LATER [--csv OUT.csv]

EARLIER and LATER are analysis folders (holding ``analysis.json``), as ``gaitscope analyze``
or the app wrote them; the app's folders are under the data folder's ``analyses/``.
Verdicts and the interval: :mod:`metrics.compare`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from metrics.compare import Change, compare_sessions, describe_shin_change, session_notes
from metrics.errors import InputError

__all__ = ["add_arguments", "run", "read_document"]

#: How each measure is printed: label, unit, scale, decimals.
_FORMAT = {
    "shin_angle_deg": ("shin angle at contact", "deg", 1.0, 1),
    "overstride": ("overstride", "% leg", 100.0, 0),
    "overstride_cm": ("overstride", "cm", 1.0, 1),
    "knee_flexion_deg": ("knee flexion at contact", "deg", 1.0, 0),
    "foot_angle_deg": ("foot angle at contact", "deg", 1.0, 0),
    "contact_time_ms": ("contact time", "ms", 1.0, 0),
    "step_time_ms": ("step time", "ms", 1.0, 0),
}


def add_arguments(p) -> None:
    p.add_argument("earlier", type=Path, help="folder of the earlier analysis (holds analysis.json)")
    p.add_argument("later", type=Path, help="folder of the later analysis")
    p.add_argument("--csv", type=Path, default=None, help="also write the comparison to this CSV file")


def read_document(folder: Path) -> dict:
    """``analysis.json`` of an analysis folder (or the file itself), with a clear error otherwise."""
    path = folder / "analysis.json" if folder.is_dir() else folder
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{folder}: no analysis.json there; give the folder that 'gaitscope analyze' wrote.") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot be read as an analysis ({exc}).") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("strikes"), list):
        raise InputError(f"{path}: not a gaitscope analysis (no strikes in it).")
    return doc


def _cells(r: Change) -> list[str]:
    label, unit, scale, nd = _FORMAT.get(r.measure, (r.measure, "", 1.0, 1))

    def num(v, sign=""):
        return "-" if v is None else f"{v * scale:{sign}.{nd}f}"

    return [f"{label} ({unit})", r.foot, f"{num(r.before_mean)} (n={r.before_n})", f"{num(r.after_mean)} (n={r.after_n})",
            num(r.change, "+"), "-" if r.ci_low is None else f"{num(r.ci_low, '+')} to {num(r.ci_high, '+')}", r.verdict]


def run(args) -> int:
    before, after = read_document(args.earlier), read_document(args.later)
    rows = compare_sessions(before["strikes"], after["strikes"])
    head = ["measure", "foot", "earlier", "later", "change", "95 % interval", "verdict"]
    table = [head] + [_cells(r) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    print(f"{args.earlier} -> {args.later} (change = later - earlier)")
    for k, row in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))
    for text in filter(None, map(describe_shin_change, rows)):
        print(text)
    for note in session_notes(before, after):
        print(f"note: {note}")
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["measure", "foot", "earlier_mean", "earlier_sd", "earlier_n", "later_mean", "later_sd",
                        "later_n", "change", "ci95_low", "ci95_high", "verdict"])
            for r in rows:
                w.writerow([r.measure, r.foot, r.before_mean, r.before_sd, r.before_n, r.after_mean, r.after_sd,
                            r.after_n, r.change, r.ci_low, r.ci_high, r.verdict])
        print(f"wrote {args.csv}")
    return 0
