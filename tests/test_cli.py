"""The command line: files written on success; exit 2 with one clear line on bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from metrics.landmarks import Landmark
from metrics.schema import KEYPOINT_COLUMNS, SCHEMA, STRIKE_FIELDS
from tests.clipmaker import read_frames, write_clip
from ui.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parents[1])


def assert_clean_failure(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {proc.stderr!r}"
    assert "Traceback" not in proc.stderr
    for w in words:
        assert w in lines[0].lower(), lines[0]


def test_not_a_video(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("this is not a video\n" * 100)
    assert_clean_failure(run_cli("analyze", str(p), "--out", str(tmp_path / "o")), "not a video")


def test_bad_option_is_one_line(tmp_path, sample):
    assert_clean_failure(run_cli("analyze", str(sample), "--capture-fps", "-5"), "capture-fps")


def test_too_short(tmp_path):
    p = write_clip(tmp_path / "short.mp4", read_frames(n=12))
    assert_clean_failure(run_cli("analyze", str(p), "--out", str(tmp_path / "o")), "at least")


@pytest.mark.slow
def test_no_person(tmp_path):
    rng = np.random.default_rng(0)
    wall = rng.integers(90, 110, size=(360, 640, 3), dtype=np.uint8)
    p = write_clip(tmp_path / "empty room.mp4", [wall] * 60)
    assert_clean_failure(run_cli("analyze", str(p), "--out", str(tmp_path / "o")), "no runner")


@pytest.mark.slow
def test_analyze_writes_the_contract_and_reuses_the_pose_cache(tmp_path, short_clip, capsys):
    out = tmp_path / "out dir with spaces"
    assert main(["analyze", str(short_clip), "--out", str(out)]) == 0
    doc = json.loads((out / "analysis.json").read_text())
    assert doc["schema"] == SCHEMA
    v = doc["video"]
    assert (v["width"], v["height"], v["frames"]) == (720, 1280, 120)
    assert v["fps"] == pytest.approx(30) and v["capture_fps"] == pytest.approx(30)
    assert v["rotation_deg"] == 0 and v["variable_frame_rate"] is False
    assert doc["runner"]["faces"] == "left"  # the sample's runner faces image-left
    assert doc["runner"]["near_side"] in ("left", "right")
    for s in doc["strikes"]:
        assert set(STRIKE_FIELDS) <= set(s)
    with open(out / "strikes.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header[: len(STRIKE_FIELDS)] == list(STRIKE_FIELDS)
    with open(out / "keypoints.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0].keys()) == KEYPOINT_COLUMNS
    frames = {int(r["frame"]) for r in rows}
    assert len(frames) > 100 and max(frames) <= 119
    knees = [r for r in rows if r["landmark"] == "left_knee"]
    assert knees and all(0 <= float(r["x_px"]) <= 720 and 0 <= float(r["y_px"]) <= 1280 for r in knees)
    assert {r["landmark"] for r in rows} <= {lm.name for lm in Landmark}
    assert (out / "pose_track.npz").is_file()
    first = capsys.readouterr().out
    assert "pose from cache" not in first
    assert main(["analyze", str(short_clip), "--out", str(out)]) == 0
    assert "pose from cache" in capsys.readouterr().out
    assert json.loads((out / "analysis.json").read_text())["strikes"] == doc["strikes"]
    assert not list(out.glob(".*part*")), "no temporary files left behind"
