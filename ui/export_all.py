"""Export an analysed clip: annotated video, strikes-only clip, contact stills, tables, report.

    gaitscope export VIDEO [--out DIR] [--name RUNNER] [--only clip,strikes,contacts,tables,report] [--pdf]

Runs the analysis first (the pose track is reused from DIR's cache when present), then
writes the exports into ``DIR/export``. Prints each export's time and, for the videos,
frames per second.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

from ui.export import ExportSource, ProgressFn, export_annotated_clip, export_strikes_clip, export_tables
from vision.draw import DrawOptions

__all__ = ["EXPORTS", "ExportTiming", "export_all", "add_arguments", "run"]

#: Every export, in the order they are written.
EXPORTS = ("clip", "strikes", "contacts", "tables", "report")


@dataclass
class ExportTiming:
    """What one export wrote and how long it took (``frames`` for the videos)."""

    name: str
    paths: list[Path]
    seconds: float
    frames: int = 0
    cpu_seconds: float = 0.0  # process CPU time, all threads (a figure that depends less on other load)

    @property
    def fps(self) -> float | None:
        return self.frames / self.seconds if self.frames and self.seconds > 0 else None


@dataclass
class _Stages:
    """Maps each stage's ``(done, total)`` onto one overall progress bar weighted by frames."""

    fn: ProgressFn | None
    weights: dict
    done: dict = field(default_factory=dict)

    def stage(self, name: str) -> ProgressFn:
        total_w = sum(self.weights.values()) or 1

        def report(done: int, total: int):
            self.done[name] = self.weights[name] * done / max(total, 1)
            if self.fn is None:
                return None
            return self.fn(int(sum(self.done.values())), int(total_w))

        return report


def export_all(src: ExportSource, out_dir: str | Path, runner_name: str = "", only: tuple = EXPORTS,
               options: DrawOptions = DrawOptions(), pdf: bool = False,
               on_progress: ProgressFn | None = None) -> list[ExportTiming]:
    """Write the chosen exports into ``out_dir``; the contact crops are decoded once for the
    stills and the report. Returns what each export wrote and its timing."""
    from ui.export_frames import contact_cells, export_contacts
    from ui.report import write_report, write_report_pdf

    out = Path(out_dir)
    unknown = set(only) - set(EXPORTS)
    if unknown:
        raise ValueError(f"unknown export(s) {sorted(unknown)}; choose from {', '.join(EXPORTS)}")
    n = src.info.frames
    stages = _Stages(on_progress, {"clip": n if "clip" in only else 0,
                                   "strikes": max(1, n // 4) if "strikes" in only else 0,
                                   "contacts": max(1, n // 4) if {"contacts", "report"} & set(only) else 0,
                                   "tables": 1, "report": 1})
    cells: dict = {}
    done: list[ExportTiming] = []
    for name in EXPORTS:
        if name not in only:
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        frames = 0
        if name == "clip":
            paths = [export_annotated_clip(src, out / "annotated.mp4", options, stages.stage("clip"))]
            frames = n
        elif name == "strikes":
            if not [s for s in src.strikes if not s.get("rejected")]:
                continue
            paths = [export_strikes_clip(src, out / "strikes_only.mp4", options, stages.stage("strikes"))]
        elif name == "contacts":
            paths = export_contacts(src, out, stages.stage("contacts"), cells_out=cells)
        elif name == "tables":
            paths = export_tables(src, out)
        else:
            if not cells and src.strikes:
                cells = contact_cells(src, on_progress=stages.stage("contacts"))
            paths = [write_report(src, out / "report.html", runner_name, cells=cells)]
            if pdf:
                paths.append(write_report_pdf(paths[0], out / "report.pdf"))
        done.append(ExportTiming(name, paths, time.perf_counter() - t0, frames, time.process_time() - c0))
    return done


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", type=Path)
    p.add_argument("--out", type=Path, default=None, help="analysis folder (default: VIDEO's name + '_gaitscope')")
    p.add_argument("--name", default="", help="runner's name for the report")
    p.add_argument("--only", default=",".join(EXPORTS), help=f"comma-separated subset of {','.join(EXPORTS)}")
    p.add_argument("--pdf", action="store_true", help="also print the report to PDF (needs Chromium)")
    p.add_argument("--model", choices=("lite", "full", "heavy"), default="full")
    p.add_argument("--capture-fps", type=float, default=None, help="frame rate the clip was filmed at (slow motion)")


def run(args) -> int:
    from ui.pipeline import AnalyzeOptions, analyze

    out = args.out or args.video.with_name(args.video.stem + "_gaitscope")
    analysis = analyze(args.video, out, AnalyzeOptions(model=args.model, capture_fps=args.capture_fps))
    src = ExportSource.from_analysis(analysis)
    only = tuple(x.strip() for x in args.only.split(",") if x.strip())
    try:
        timings = export_all(src, out / "export", args.name, only, pdf=args.pdf)
    except ValueError as exc:
        raise SystemExit(f"gaitscope export: {exc}") from None
    for t in timings:
        speed = f", {t.fps:.1f} frames/s ({1000 * t.cpu_seconds / t.frames:.1f} ms CPU/frame)" if t.fps else ""
        print(f"{t.name:9s} {t.seconds:6.2f} s{speed}: {', '.join(str(p) for p in t.paths[:3])}"
              f"{' ...' if len(t.paths) > 3 else ''}")
    return 0
