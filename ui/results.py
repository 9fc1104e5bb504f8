"""Write an analysis to disk: ``analysis.json``, ``strikes.csv``, ``keypoints.csv``.

Every file is written to a temporary name and renamed into place, so a file that
exists is complete.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import numpy as np

from metrics import GaitResult
from metrics.landmarks import Landmark
from metrics.schema import KEYPOINT_COLUMNS, SCHEMA, STRIKE_FIELDS
from metrics.track import PoseTrack
from vision.video import VideoInfo

__all__ = ["write_results", "build_document", "atomic_write_text", "strikes_csv", "keypoints_csv", "json_safe"]


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def json_safe(value):
    """JSON-safe: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def build_document(info: VideoInfo, gait: GaitResult, options: dict, sha256: str, warnings: list[str]) -> dict:

    video = info.as_json()
    video["sha256"] = sha256
    return json_safe({
        "schema": SCHEMA,
        "video": video,
        "runner": gait.runner,
        "camera": {"belt_tilt_deg": gait.tilt_deg},
        "options": options,
        "strikes": gait.strikes,
        "summary": gait.summary,
        "warnings": warnings,
    })


def strikes_csv(strikes: list[dict]) -> str:
    extra = sorted({k for s in strikes for k in s} - set(STRIKE_FIELDS))
    cols = list(STRIKE_FIELDS) + [k for k in extra if not isinstance(strikes[0].get(k), (dict, list))] if strikes else list(STRIKE_FIELDS)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for s in strikes:
        w.writerow({k: ("" if s.get(k) is None else s.get(k)) for k in cols})
    return buf.getvalue()


def keypoints_csv(track: PoseTrack) -> str:
    """Long table: one row per frame and landmark seen."""
    names = [lm.name for lm in Landmark]
    xy, vis = track.xy_px, track.visibility
    rows, cols = np.nonzero(np.isfinite(xy).all(axis=2))
    times = [f"{t:.6f}" for t in track.t_s]
    lines = [",".join(KEYPOINT_COLUMNS)]
    lines += [f"{i},{times[i]},{names[k]},{x:.2f},{y:.2f},{v:.3f}"
              for i, k, x, y, v in zip(rows.tolist(), cols.tolist(), xy[rows, cols, 0].tolist(),
                                       xy[rows, cols, 1].tolist(), vis[rows, cols].tolist())]
    return "\n".join(lines) + "\n"


def write_results(out: Path, info: VideoInfo, gait: GaitResult, options: dict, sha256: str,
                  warnings: list[str]) -> dict:
    doc = build_document(info, gait, options, sha256, warnings)
    atomic_write_text(out / "keypoints.csv", keypoints_csv(gait.track_clean))
    atomic_write_text(out / "strikes.csv", strikes_csv(doc["strikes"]))
    atomic_write_text(out / "analysis.json", json.dumps(doc, indent=1))
    return doc
