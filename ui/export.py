"""Exports of an analysis: annotated clip, strikes-only slow-motion clip, contact PNGs and
sheets, tables (CSV, JSON). The report is :mod:`ui.report`.

Every file appears under its final name only when complete (temporary name, then
rename; the partial file is removed on any failure). Long exports report
``on_progress(done, total)``; a callback returning ``False`` cancels
(:class:`metrics.errors.Cancelled`, nothing left behind). A full disk or unwritable
folder raises :class:`ExportError` with a message for the user.

The annotated clip keeps the source's own timing: same frame count, same playback
rate (slow-motion clips stay slow), and per-frame times for variable-frame-rate clips.
"""

from __future__ import annotations

import csv
import io
import json
import os
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from metrics.errors import Cancelled
from metrics.track import PoseTrack
from ui.results import json_safe, strikes_csv
from vision.draw import DrawOptions, OverlayAnnotator, format_overstride, format_shin
from vision.overlay import StrikeMark, overlay_for_frame, strike_marks
from vision.video import Frame, VideoInfo, iter_frames, prefetch
from vision.writer import ExportError, VideoWriter

__all__ = ["ExportSource", "ExportError", "ProgressFn", "Progress", "export_annotated_clip",
           "export_strikes_clip", "export_tables", "summary_csv", "strike_caption", "atomic_write_bytes",
           "frames_with_overlay", "STRIKES_CLIP_SLOWDOWN"]

ProgressFn = Callable[[int, int], "bool | None"]
#: Strikes-only clip: seconds of real time either side of each contact, slowdown, freeze on the contact.
STRIKE_WINDOW_S = 0.2
STRIKES_CLIP_SLOWDOWN = 4.0
STRIKE_FREEZE_S = 0.6


@dataclass(frozen=True)
class ExportSource:
    """What an export needs: the clip, its cleaned track and the (possibly edited) results."""

    info: VideoInfo
    track: PoseTrack
    strikes: tuple = ()
    runner: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    tilt_deg: float = 0.0
    warnings: tuple = ()
    max_side: int | None = None  # set by :meth:`shrunk`

    @classmethod
    def from_document(cls, info: VideoInfo, document: dict, track: PoseTrack) -> "ExportSource":
        """From an ``analysis.json`` document (edited strikes included) and the cleaned track."""
        if len(track) != info.frames:
            raise ExportError(f"the pose track has {len(track)} frames but the clip has {info.frames}; "
                              "analyse the clip again before exporting.")
        tilt = (document.get("camera") or {}).get("belt_tilt_deg") or 0.0
        return cls(info, track, tuple(document.get("strikes") or ()), dict(document.get("runner") or {}),
                   dict(document.get("summary") or {}), float(tilt), tuple(document.get("warnings") or ()))

    @classmethod
    def from_analysis(cls, analysis) -> "ExportSource":
        """From :class:`ui.pipeline.Analysis`."""
        return cls.from_document(analysis.info, analysis.document, analysis.gait.track_clean)

    @property
    def faces(self) -> str:
        return self.runner.get("faces", "right")

    def shrunk(self, max_side: int | None) -> "ExportSource":
        """The same analysis for a picture whose longer side is at most ``max_side`` pixels
        (keypoints scaled; frames must then be decoded with the same ``max_side``)."""
        w, h = self.frame_size
        if not max_side or max(w, h) <= max_side:
            return self
        s = max_side / max(w, h)
        w2, h2 = max(2, int(round(w * s / 2)) * 2), max(2, int(round(h * s / 2)) * 2)
        track = self.track.replace(xy_px=self.track.xy_px * np.array([w2 / w, h2 / h]), size=(w2, h2))
        runner = dict(self.runner)
        if runner.get("cm_per_px"):
            runner["cm_per_px"] = runner["cm_per_px"] * w / w2
        return replace(self, track=track, runner=runner, max_side=int(max_side))

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of the frames the exports draw on."""
        return self.track.size if self.max_side else (self.info.width, self.info.height)

    def marks(self, hold_s: float | None = None) -> list[StrikeMark]:
        kw = {} if hold_s is None else {"hold_s": hold_s}
        return strike_marks(self.track, self.strikes, self.runner, **kw)


# ---------------------------------------------------------------- files and progress

def _disk_error(path: Path, exc: OSError) -> ExportError:
    if getattr(exc, "errno", None) == 28 or "No space" in str(exc):
        return ExportError(f"the disk is full while writing {path.name}; free some space and export again.")
    return ExportError(f"could not write {path.name} in {path.parent}: {exc.strerror or exc}")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary name; no partial file survives a failure."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _disk_error(path, exc) from None
    return path


class Progress:
    """Calls ``on_progress(done, total)`` and turns a ``False`` answer into :class:`Cancelled`."""

    def __init__(self, on_progress: ProgressFn | None, total: int):
        self.fn, self.total, self.done = on_progress, max(1, int(total)), 0

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.fn is not None and self.fn(min(self.done, self.total), self.total) is False:
            raise Cancelled("export cancelled; no file was written.")


def frames_with_overlay(src: ExportSource, start: int = 0, stop: int | None = None,
                        options: DrawOptions = DrawOptions(), marks: Sequence[StrikeMark] | None = None,
                        ) -> Iterator[tuple[Frame, np.ndarray]]:
    """Decoded frames ``start <= i < stop`` with their annotated copies."""
    marks = src.marks() if marks is None else marks
    ann = OverlayAnnotator(options)
    with closing(prefetch(iter_frames(src.info, start, stop, max_side=src.max_side))) as frames:
        for fr in frames:
            if fr.index >= len(src.track):
                break
            ov = overlay_for_frame(src.track, marks, fr.index, src.faces, src.tilt_deg)
            yield fr, ann.annotate(fr.rgb, ov)


# ---------------------------------------------------------------- video exports

def export_annotated_clip(src: ExportSource, path: str | os.PathLike, options: DrawOptions = DrawOptions(),
                          on_progress: ProgressFn | None = None, start: int = 0, stop: int | None = None,
                          crf: int = 22, preset: str = "superfast", max_side: int | None = None) -> Path:
    """The whole clip (or frames ``[start, stop)``) with the overlay, at the clip's own playback rate.

    H.264 yuv420p with the index at the front (plays in browsers and on phones while it
    downloads). Variable-frame-rate clips keep every frame's time. ``max_side`` shrinks the
    picture (e.g. 1920 for a 4K clip: about four times faster to make, and smaller).
    """
    src = src.shrunk(max_side)
    info = src.info
    stop = info.frames if stop is None else min(stop, info.frames)
    if not 0 <= start < stop:
        raise ExportError(f"nothing to export: frames {start}..{stop} of a {info.frames}-frame clip")
    prog = Progress(on_progress, stop - start)
    pts = np.asarray(info.pts, float)
    file_t = (pts - pts[start]) * info.time_base
    with VideoWriter(path, info.fps, src.frame_size, crf=crf, preset=preset,
                     timestamps=info.variable_frame_rate) as w, \
            closing(frames_with_overlay(src, start, stop, options)) as frames:
        for fr, img in frames:
            w.write(img, float(file_t[fr.index]) if info.variable_frame_rate else None)
            prog.step()
    return Path(path)


def _strike_window(t_s: np.ndarray, ic: int, half_s: float) -> tuple[int, int]:
    lo = int(np.searchsorted(t_s, t_s[ic] - half_s - 1e-9, side="left"))
    hi = int(np.searchsorted(t_s, t_s[ic] + half_s + 1e-9, side="right"))
    return lo, max(hi, ic + 1)


def strike_caption(m: StrikeMark, n_strikes: int) -> str:
    """``'Strike 3/24  R  t = 4.23 s  shin 6.1°  overstride 12% leg'``."""
    side = "left" if m.foot == "left" else "right"
    parts = [f"Strike {m.number}/{n_strikes}", f"{side} foot", f"t = {m.ic_time_s:.2f} s", format_shin(m.shin_angle_deg)]
    if m.overstride is not None:
        parts.append(format_overstride(m.overstride, m.overstride_cm))
    if m.rejected:
        parts.append("REJECTED")
    return "   ".join(parts)


def export_strikes_clip(src: ExportSource, path: str | os.PathLike, options: DrawOptions = DrawOptions(),
                        on_progress: ProgressFn | None = None, window_s: float = STRIKE_WINDOW_S,
                        slowdown: float = STRIKES_CLIP_SLOWDOWN, freeze_s: float = STRIKE_FREEZE_S,
                        include_rejected: bool = False, crf: int = 22, preset: str = "superfast",
                        max_side: int | None = None) -> Path:
    """Each contact from ``window_s`` before to ``window_s`` after (real time), ``slowdown`` times
    slower than real life, held still on the contact frame for ``freeze_s``, with a caption.

    Each segment shows only its own strike's measurement. ``max_side`` shrinks the picture.
    """
    src = src.shrunk(max_side)
    from ui.export_frames import caption_bar  # drawing of the caption strip

    marks = sorted((m for m in src.marks(hold_s=window_s) if include_rejected or not m.rejected),
                   key=lambda m: m.ic_frame)
    if not marks:
        raise ExportError("there are no strikes to export; analyse the clip or add strikes first.")
    t = src.track.t_s
    windows = [_strike_window(t, m.ic_frame, window_s) for m in marks]
    real_dt = float(np.median(np.diff(t))) if len(t) > 1 else 1 / 30
    out_fps = min(60.0, 1.0 / (real_dt * slowdown))
    n_freeze = max(1, int(freeze_s * out_fps + 0.5))
    total = sum(hi - lo for lo, hi in windows)
    prog = Progress(on_progress, total)
    need: dict[int, list[int]] = {}
    for k, (lo, hi) in enumerate(windows):
        for i in range(lo, hi):
            need.setdefault(i, []).append(k)
    buffered: dict[int, dict[int, np.ndarray]] = {k: {} for k in range(len(marks))}
    n_all = len(src.strikes)
    ann = OverlayAnnotator(options)
    first, last = min(lo for lo, _ in windows), max(hi for _, hi in windows)
    info = src.info
    with VideoWriter(path, out_fps, src.frame_size, crf=crf, preset=preset) as w:

        def put(k: int, i: int, img: np.ndarray) -> None:
            for _ in range(n_freeze if i == marks[k].ic_frame else 1):
                w.write(img)
            prog.step()

        # Segments are written in order; a frame of the segment being written goes straight to the
        # file, only frames of later, overlapping segments wait in memory.
        current = 0
        with closing(prefetch(iter_frames(info, first, last, max_side=src.max_side))) as frames:
            for fr in frames:
                for k in need.get(fr.index, ()):
                    ov = overlay_for_frame(src.track, [marks[k]], fr.index, src.faces, src.tilt_deg)
                    img = caption_bar(ann.annotate(fr.rgb, ov), strike_caption(marks[k], n_all), ann)
                    if k == current:
                        put(k, fr.index, img)
                    else:
                        buffered[k][fr.index] = img
                while current < len(marks) and windows[current][1] <= fr.index + 1:
                    current += 1
                    if current < len(marks):
                        for i in sorted(buffered[current]):
                            put(current, i, buffered[current].pop(i))
        for k in range(current + 1, len(marks)):  # a damaged tail stopped decoding early
            for i in sorted(buffered[k]):
                put(k, i, buffered[k].pop(i))
    return Path(path)


# ---------------------------------------------------------------- tables

def summary_csv(summary: dict) -> str:
    """Two columns, ``measure,value``; nested values flattened as ``a.b``."""
    rows: list[tuple[str, object]] = []

    def walk(prefix: str, v) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(f"{prefix}.{k}" if prefix else str(k), x)
        elif isinstance(v, (list, tuple)):
            rows.append((prefix, json.dumps(json_safe(v))))
        else:
            rows.append((prefix, "" if v is None else v))

    walk("", json_safe(summary))
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(("measure", "value"))
    wr.writerows(rows)
    return buf.getvalue()


def export_tables(src: ExportSource, out_dir: str | os.PathLike) -> list[Path]:
    """``strikes.csv``, ``summary.csv`` and ``gaitscope_export.json`` (video, runner, strikes, summary)."""
    out = Path(out_dir)
    doc = json_safe({"video": src.info.as_json(), "runner": src.runner, "camera": {"belt_tilt_deg": src.tilt_deg},
                      "strikes": list(src.strikes), "summary": src.summary, "warnings": list(src.warnings)})
    return [
        atomic_write_bytes(out / "strikes.csv", strikes_csv(list(src.strikes)).encode()),
        atomic_write_bytes(out / "summary.csv", summary_csv(src.summary).encode()),
        atomic_write_bytes(out / "gaitscope_export.json", json.dumps(doc, indent=1).encode()),
    ]
