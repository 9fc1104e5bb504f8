"""Mutated copies of a sample clip, run through the app's path one by one.

``python -m tests.fuzz_cases WORK_DIR FIRST COUNT`` makes two small base clips in
WORK_DIR, then for each case ``FIRST <= i < FIRST + COUNT`` mutates one of them (seeded
by ``i``: byte flips, truncation, spliced headers, broken box sizes, inserted or deleted
runs), and does what the app does with an upload: store it in the library, probe it,
analyse it (every frame decoded; the pose model replaced by a synthetic runner unless
``GAITSCOPE_FUZZ_REAL_POSE=1``), record the outcome. One JSON line per case on stdout::

    {"i": 3, "kind": "flip", "outcome": "error" | "result" | "unexpected", "cls": ..., "message": ...,
     "seconds": 0.4, "stray": [], "library_ok": true}

A line ``{"start": i}`` comes before each case, so a hang or a crash names its case.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np

__all__ = ["KINDS", "mutate", "make_bases", "run_case"]

KINDS = ("flip", "flip_index", "truncate", "splice_header", "box_size", "insert", "delete", "zero_run",
         "foreign_head")


def make_bases(folder: Path) -> tuple[Path, Path]:
    """Two clips of the sample runner: 1.8 s at 144x256 with the index first, and 2.2 s at 180x320 index last."""
    from tests.clipmaker import write_clip
    from tests.hostile_clips import sample_frames

    a = write_clip(folder / "base_a.mp4", sample_frames(54, max_side=256), fps=30, preset="ultrafast", keyint=15,
                   faststart=True)
    b = write_clip(folder / "base_b.mp4", sample_frames(55, max_side=320, start=90), fps=25)
    return a, b


def _boxes(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, size, type) of the MP4 boxes, descending into the usual containers."""
    out, stack = [], [(0, len(data))]
    containers = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta", b"dinf"}
    while stack:
        pos, end = stack.pop()
        while pos + 8 <= end:
            size = int.from_bytes(data[pos:pos + 4], "big")
            kind = data[pos + 4:pos + 8]
            if size < 8 or pos + size > end:
                break
            out.append((pos, size, kind))
            if kind in containers:
                stack.append((pos + 8, pos + size))
            pos += size
    return out


def mutate(data: bytes, other: bytes, i: int) -> tuple[str, bytes]:
    """Case ``i``'s mutation of ``data`` (``other``: a second clip to splice from)."""
    rng = np.random.default_rng(1000 + i)
    kind = KINDS[i % len(KINDS)]
    b = bytearray(data)
    n = len(b)
    boxes = _boxes(data)
    index = [(o, s) for o, s, k in boxes if k in (b"moov", b"stsz", b"stco", b"stts", b"stsc", b"stss", b"avcC")]
    if kind == "flip":
        for pos in rng.integers(0, n, int(rng.integers(1, 60))):
            b[pos] ^= 1 << int(rng.integers(0, 8))
    elif kind == "flip_index" and index:
        o, s = index[int(rng.integers(0, len(index)))]
        for pos in rng.integers(o, o + s, int(rng.integers(1, 12))):
            b[pos] = int(rng.integers(0, 256))
    elif kind == "truncate":
        b = b[: int(rng.integers(1, n))]
    elif kind == "splice_header":  # the other clip's header and index in front of this clip's data
        cut_a = next((o for o, _, k in boxes if k == b"mdat"), n // 3)
        other_boxes = _boxes(other)
        cut_b = next((o for o, _, k in other_boxes if k == b"mdat"), len(other) // 3)
        b = bytearray(other[:cut_b]) + b[cut_a:]
    elif kind == "box_size" and boxes:
        o, _, _ = boxes[int(rng.integers(0, len(boxes)))]
        b[o:o + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x01", b"\x00\x00\x00\x00",
                                 b"\x7f\xff\xff\xf0", int(rng.integers(8, 1 << 20)).to_bytes(4, "big")])
    elif kind == "insert":
        pos = int(rng.integers(0, n))
        b[pos:pos] = rng.integers(0, 256, int(rng.integers(1, 4096)), dtype=np.uint8).tobytes()
    elif kind == "delete":
        pos = int(rng.integers(0, n))
        del b[pos:pos + int(rng.integers(1, 8192))]
    elif kind == "zero_run":
        pos = int(rng.integers(0, n))
        end = min(n, pos + int(rng.integers(16, 16384)))
        b[pos:end] = bytes(end - pos)
    elif kind == "foreign_head":  # a picture's or a document's first bytes over the clip's start
        head = rng.choice([b"\x89PNG\r\n\x1a\n", b"%PDF-1.7\n", b"\xff\xd8\xff\xe0", b"RIFF\x00\x00\x00\x00AVI ",
                           b"\x1aE\xdf\xa3", b"\x00\x00\x00\x18ftypheic"])
        b[: len(head)] = head
    else:  # flip_index / box_size on a file without boxes: flip instead
        b[int(rng.integers(0, n))] ^= 0xFF
    return kind, bytes(b)


def _synthetic_pose(info, options, on_progress, on_frame=None):
    """Decode every frame (as the pose pass does), then a synthetic runner for the frames that decoded."""
    from tests.synthetic import synth_run
    from vision.video import iter_frames

    decoded = sum(1 for _ in iter_frames(info, timeout_s=60))
    track, _ = synth_run(duration_s=max(info.frames, 2) / info.fps, fps=info.fps, size=(info.width, info.height),
                         leg_px=0.35 * info.height)
    track = track[: info.frames]
    if len(track) < info.frames:  # pad (a clip whose fps and count disagree)
        pad = info.frames - len(track)
        xy = np.concatenate([track.xy_px, np.full((pad, *track.xy_px.shape[1:]), np.nan)])
        vis = np.concatenate([track.visibility, np.zeros((pad, track.visibility.shape[1]))])
        z = np.concatenate([track.z, np.full((pad, track.z.shape[1]), np.nan)])
        rep = np.concatenate([track.repeated, np.zeros(pad, bool)])
        track = track.replace(xy_px=xy, visibility=vis, z=z, repeated=rep, t_s=info.times_s())
    xy = track.xy_px.copy()
    xy[decoded:] = np.nan
    return track.replace(xy_px=xy, t_s=info.times_s(), meta={"frames_decoded": decoded})


def _stray(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if ".part" in p.name or p.name.startswith(".deleted"))


def run_case(i: int, base_a: Path, base_b: Path, root: Path) -> dict:
    """One mutated upload through the library, the probe and the analysis."""
    from metrics.errors import GaitscopeError
    from ui.library import Library
    from ui.pipeline import AnalyzeOptions, analyze
    from vision.video import probe

    src, other = (base_a, base_b) if i % 2 == 0 else (base_b, base_a)
    kind, data = mutate(src.read_bytes(), other.read_bytes(), i)
    t0 = time.monotonic()
    rec = {"i": i, "kind": kind, "bytes": len(data)}
    lib = Library(root)
    clip = None
    try:
        clip, is_new = lib.add_clip(io.BytesIO(data), f"fuzz {i} ü $(x).mp4")
        try:
            probe(clip.path)
        except GaitscopeError:
            if is_new:
                lib.discard_clip(clip.id)
            raise
        a = lib.start_analysis(clip.id, model="lite")
        try:
            result = analyze(clip.path, a.folder, AnalyzeOptions(model="lite", workers=1))
        except GaitscopeError as exc:
            lib.finish_analysis(a.id, "failed", str(exc))
            raise
        lib.finish_analysis(a.id, "done")
        doc = json.loads((a.folder / "analysis.json").read_text())
        ok = doc["video"]["frames"] == result.info.frames and isinstance(doc["strikes"], list)
        rec.update(outcome="result" if ok else "unexpected", frames=result.info.frames,
                   strikes=len(doc["strikes"]), warnings=len(doc["warnings"]))
    except GaitscopeError as exc:
        rec.update(outcome="error", cls=type(exc).__name__, message=str(exc))
    except Exception as exc:  # noqa: BLE001 - the finding the fuzz test reports
        rec.update(outcome="unexpected", cls=type(exc).__name__, message=str(exc),
                   traceback=traceback.format_exc()[-3000:])
    rec["seconds"] = round(time.monotonic() - t0, 3)
    rec["stray"] = _stray(root)
    try:
        Library(root).analyses()
        rec["library_ok"] = True
    except GaitscopeError as exc:
        rec["library_ok"] = False
        rec["library_message"] = str(exc)
    return rec


def main(argv: list[str]) -> int:
    work, first, count = Path(argv[0]), int(argv[1]), int(argv[2])
    base_a, base_b = make_bases(work)
    if os.environ.get("GAITSCOPE_FUZZ_REAL_POSE") != "1":
        import ui.pipeline

        ui.pipeline.run_pose = _synthetic_pose
    for i in range(first, first + count):
        print(json.dumps({"start": i}), flush=True)
        print(json.dumps(run_case(i, base_a, base_b, work / "library")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
