"""Hostile and broken inputs through the command line.

Every bad input gets exit code 2 and one specific line on stderr, and leaves an earlier
analysis in the output folder byte for byte as it was. Inputs that can be analysed give
a result plus a warning that names the problem (in analysis.json and on the terminal).
Every test makes its own file (``tests/hostile_clips.py``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from metrics.landmarks import Landmark
from tests import hostile_clips as hc
from tests.clipmaker import ROOT
from tests.hostile_cases import CASES, SHARED_CASES, cli_args
from tests.synthetic import synth_run
from ui.cli import main

_EARLIER = {"analysis.json": b'{"schema": "an earlier analysis"}', "strikes.csv": b"id\nL1\n",
            "keypoints.csv": b"frame\n0\n", "pose_track.npz": b"not a real cache"}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def earlier_analysis(out: Path) -> dict[str, bytes]:
    out.mkdir(parents=True)
    for name, data in _EARLIER.items():
        (out / name).write_bytes(data)
    return snapshot(out)


def assert_one_error_line(err: str, *words: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    line = lines[0]
    assert line.startswith("gaitscope: error: ") and "Traceback" not in err
    for w in words:
        assert w in line.lower(), line
    return line


def no_temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if ".part" in p.name or p.name.startswith(".deleted")]


def _params(cases):
    return [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.pose else []) for c in cases]


@pytest.mark.parametrize("case", _params([c for c in CASES if c.exit_code == 2]))
def test_bad_input_is_one_line_exit_2_and_touches_nothing(case, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    video = case.make(src)
    out = tmp_path / "out"
    before = earlier_analysis(out)
    inputs_before = snapshot(src)
    code = main(cli_args(video, out))
    cap = capsys.readouterr()
    assert code == 2, cap.err
    assert_one_error_line(cap.err, *case.words)
    assert cap.out == ""
    assert snapshot(out) == before, "an earlier analysis in the output folder was changed"
    assert snapshot(src) == inputs_before, "the input was changed"


@pytest.mark.slow
@pytest.mark.parametrize("case", _params([c for c in CASES if c.exit_code == 0]))
def test_difficult_input_is_analysed_with_a_warning(case, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    video = case.make(src)
    out = tmp_path / "out"
    code = main(cli_args(video, out))
    cap = capsys.readouterr()
    assert code == 0, cap.err
    doc = json.loads((out / "analysis.json").read_text())
    printed = [ln.lower() for ln in cap.out.splitlines() if ln.startswith("warning: ")]
    assert len(printed) == len(doc["warnings"])
    for w in case.words:
        assert any(w in x.lower() for x in doc["warnings"]), (w, doc["warnings"])
        assert any(w in x for x in printed), (w, printed)
    for flag in ("camera moves", "clip is dark", "picture is small", "cut off"):  # no false alarms
        if flag not in case.words:
            assert not any(flag in x.lower() for x in doc["warnings"]), (flag, doc["warnings"])
    assert not no_temporaries(out)
    check = _EXTRA_CHECKS.get(case.id)
    if check:
        check(doc, out, video)


def _hips_x(out: Path) -> np.ndarray:
    with open(out / "keypoints.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["landmark"] in ("left_hip", "right_hip")]
    return np.array([float(r["x_px"]) for r in rows])


def _check_cut(doc: dict, out: Path, video: Path) -> None:
    assert doc["video"]["truncated"] is True
    with open(out / "keypoints.csv", newline="") as f:
        frames = {int(r["frame"]) for r in csv.DictReader(f)}
    assert 30 <= len(frames) and max(frames) < 120, "the part that decodes is analysed, no more"
    assert doc["strikes"], "strikes are found in the part that decodes"


def _check_4k(doc: dict, out: Path, video: Path) -> None:
    assert (doc["video"]["width"], doc["video"]["height"]) == (2160, 3840)
    x = _hips_x(out)
    assert len(x) and 0.25 * 2160 < np.median(x) < 0.75 * 2160, "landmarks in full-resolution pixels"


def _check_two(doc: dict, out: Path, video: Path) -> None:
    x = _hips_x(out)
    half = doc["video"]["width"] / 2
    assert len(x) > 60
    assert (x < half).all() or (x > half).all(), "the same runner is followed in every frame"


_EXTRA_CHECKS = {"cut_half": _check_cut, "uhd_4k": _check_4k, "two_people": _check_two}


# --------------------------------------------------------------- view and gait warnings (synthetic tracks)

def _front_view(track):
    """A side-view track seen from the front: left and right apart across the picture, no fore-aft swing."""
    xy = track.xy_px.copy()
    hip_x = np.nanmean(xy[:, [Landmark.left_hip, Landmark.right_hip], 0])
    for lm in Landmark:
        side = -1 if lm.name.startswith("left") else (1 if lm.name.startswith("right") else 0)
        half = 40 if lm.name.split("_")[-1] in ("shoulder", "elbow", "wrist") else 25
        xy[:, lm, 0] = hip_x + side * half + 0.05 * (xy[:, lm, 0] - hip_x)
    return track.replace(xy_px=xy)


@pytest.mark.parametrize("kind,words", [
    ("front", ("side view", "no angles")),
    ("walking", ("no flight phase", "walking")),
])
def test_view_and_gait_warnings_reach_analysis_json_and_the_terminal(kind, words, tmp_path, capsys, monkeypatch):
    """The pipeline surfaces the gait measures' warnings (pose replaced by a synthetic track of the clip's length)."""
    if kind == "front":
        track, _ = synth_run(duration_s=6.0)
        track = _front_view(track)
    else:
        track, _ = synth_run(duration_s=6.0, contact_share=1.25, cadence_spm=110)
    video = hc.blank_clip(tmp_path / f"{kind}.mp4", track.size, len(track))
    monkeypatch.setattr("ui.pipeline.run_pose", lambda info, options, on_progress, on_frame=None: track)
    out = tmp_path / "out"
    assert main(cli_args(video, out)) == 0
    cap = capsys.readouterr()
    doc = json.loads((out / "analysis.json").read_text())
    for w in words:
        assert any(w in x.lower() for x in doc["warnings"]), doc["warnings"]
        assert any(w in ln.lower() for ln in cap.out.splitlines() if ln.startswith("warning: ")), cap.out
    angles = ("shin_angle_deg", "overstride", "knee_flexion_deg", "foot_angle_deg")
    if kind == "front":
        assert doc["strikes"], "contacts are still listed"
        assert all(s[k] is None for s in doc["strikes"] for k in angles if k in s), "no angles for a front view"
        assert all(doc["summary"].get(k) in (None, {}) or not _has_number(doc["summary"][k]) for k in angles
                   if k in doc["summary"])
    else:
        assert any(s["shin_angle_deg"] is not None for s in doc["strikes"]), "a side view keeps its angles"


def _has_number(v) -> bool:
    if isinstance(v, dict):
        return any(_has_number(x) for x in v.values())
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@pytest.mark.slow
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in SHARED_CASES if c.tested])
def test_development_clips_get_their_warning(case, shared, tmp_path, capsys):
    video = hc.shared_excerpt(shared / "clips" / case.clip, tmp_path / f"{case.id}.mp4", case.start_s, case.seconds,
                              max_side=480)
    out = tmp_path / "out"
    assert main(cli_args(video, out)) == 0, capsys.readouterr().err
    doc = json.loads((out / "analysis.json").read_text())
    for w in case.words:
        assert any(w in x.lower() for x in doc["warnings"]), doc["warnings"]
    if case.id == "front_view":
        assert all(s["shin_angle_deg"] is None and s["overstride"] is None for s in doc["strikes"])


# --------------------------------------------------------------- file names

def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd, env=env)


@pytest.mark.slow
def test_file_name_with_spaces_unicode_and_shell_characters(tmp_path):
    folder = tmp_path / "clips ü 😀 $(x)"
    folder.mkdir()
    video = hc.small_clip(folder / hc.HOSTILE_NAME, 2.0, max_side=426)
    proc = _run_cli("analyze", str(video), "--model", "lite", "--workers", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = video.with_name(video.stem + "_gaitscope")  # the default output folder, beside the clip
    doc = json.loads((out / "analysis.json").read_text(encoding="utf-8"))
    assert doc["video"]["path"] == str(video)
    assert hc.HOSTILE_NAME in proc.stdout
    assert not (tmp_path / "PWNED").exists() and not (folder / "PWNED").exists(), "nothing was run by a shell"
    assert sorted(p.name for p in folder.iterdir()) == sorted([hc.HOSTILE_NAME, out.name])


def test_hostile_name_in_an_error_message_is_shown_as_is(tmp_path, capsys):
    video = hc.zero_bytes(tmp_path / hc.HOSTILE_NAME)
    assert main(cli_args(video, tmp_path / "out")) == 2
    line = assert_one_error_line(capsys.readouterr().err, "empty")
    assert hc.HOSTILE_NAME in line
    assert not (tmp_path / "PWNED").exists()


# --------------------------------------------------------------- a ten-minute clip

_LONG_SCRIPT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from metrics.errors import Cancelled
    from ui.pipeline import AnalyzeOptions, analyze
    from vision.video import iter_frames, probe

    def hwm_kb():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

    clip, out = Path(sys.argv[1]), Path(sys.argv[2])
    calls = []
    def progress(stage, done, total):
        calls.append((stage, done, total))
        return not (stage == "pose" and done >= 40)
    t0 = time.monotonic()
    try:
        analyze(clip, out, AnalyzeOptions(model="lite", workers=1, use_cache=False), on_progress=progress)
        cancelled = False
    except Cancelled:
        cancelled = True
    t_cancel = time.monotonic() - t0
    after_model = hwm_kb()
    info = probe(clip)
    t0 = time.monotonic()
    n = sum(1 for _ in iter_frames(info))
    print(json.dumps({"cancelled": cancelled, "t_cancel_s": t_cancel, "calls": calls[-3:], "n_calls": len(calls),
                      "frames": info.frames, "decoded": n, "t_decode_s": time.monotonic() - t0,
                      "hwm_after_model_kb": after_model, "hwm_end_kb": hwm_kb()}))
""")


@pytest.mark.slow
def test_ten_minute_clip_progress_cancel_and_bounded_memory(tmp_path, report_figure):
    # ten minutes at 10 fps (6000 frames at 160x120): decoding all of it stays quick
    clip = hc.long_static_clip(tmp_path / "ten minutes.mp4", fps=10.0)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", _LONG_SCRIPT, str(clip), str(out)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["frames"] == 6000 and r["decoded"] == 6000
    assert r["cancelled"], "returning False from on_progress cancels"
    stage, done, total = r["calls"][-1]
    assert (stage, total) == ("pose", 6000) and done == 40, "progress counts frames of the whole clip"
    assert r["n_calls"] >= 40
    assert not out.exists() or not any(out.iterdir()), "a cancelled analysis leaves no files"
    growth_mb = (r["hwm_end_kb"] - r["hwm_after_model_kb"]) / 1024
    report_figure(f"10-minute clip: cancelled after {r['t_cancel_s']:.1f} s; all {r['decoded']} frames decoded in "
          f"{r['t_decode_s']:.1f} s; peak memory {r['hwm_end_kb'] / 1024:.0f} MB (+{growth_mb:.0f} MB while decoding)")
    assert growth_mb < 150, f"decoding the whole clip grew the peak memory by {growth_mb:.0f} MB"


# --------------------------------------------------------------- the same inputs uploaded in the app

def _upload(at, name: str, data: bytes):
    at.file_uploader[0].upload(name, data, "video/mp4").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _earlier_library(data: Path):
    from ui.library import Library

    lib = Library(data)
    c, _ = lib.add_clip(io.BytesIO(b"an earlier clip" * 100), "earlier.mp4")
    a = lib.start_analysis(c.id, runner="Earlier")
    lib.finish_analysis(a.id, "done")
    return lib, a


#: Not uploadable: the uploader accepts .mp4/.mov/.m4v only (the browser does not offer an .m4a), and a path
#: that does not exist or a folder cannot be uploaded.
_NOT_UPLOADABLE = ("missing", "folder", "audio_m4a")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES
                                  if c.exit_code == 2 and not c.pose and c.id not in _NOT_UPLOADABLE])
def test_bad_upload_gets_a_message_in_the_page_and_changes_nothing(case, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    data = tmp_path / "data"
    lib, earlier = _earlier_library(data)
    monkeypatch.setenv("GAITSCOPE_DATA", str(data))
    before = snapshot(data / "clips"), snapshot(data / "analyses"), [a.id for a in lib.analyses()]
    src = tmp_path / "in"
    src.mkdir()
    video = case.make(src)
    at = _upload(AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=120).run(), video.name,
                 video.read_bytes())
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    text = errors[0].replace("\\", "").lower()
    assert "this file cannot be analysed" in text and video.name.lower() in text
    for w in case.words:
        assert w in text, (w, errors[0])
    assert "source." not in text, "the message names the upload, not the library's copy"
    assert (snapshot(data / "clips"), snapshot(data / "analyses"), [a.id for a in lib.analyses()]) == before
    assert list((data / "incoming").iterdir()) == []


@pytest.mark.slow
def test_dark_upload_fails_with_its_message_in_the_page(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui.library import Library

    data = tmp_path / "data"
    _, earlier = _earlier_library(data)
    monkeypatch.setenv("GAITSCOPE_DATA", str(data))
    video = hc.dark_clip(tmp_path / "night run.mp4")
    at = _upload(AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=120).run(), video.name,
                 video.read_bytes())
    at.button(key="FormSubmitter:analyse-form-Analyse").click().run()
    aid = at.query_params["a"]
    aid = aid[0] if isinstance(aid, list) else aid
    lib = Library(data)
    deadline = time.monotonic() + 180
    while lib.analysis(aid).status == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert lib.analysis(aid).status == "failed"
    at.run()
    text = " ".join(e.value for e in at.error).replace("\\", "")
    assert "night run.mp4" in text and "too dark" in text, text
    assert any(b.label == "Run again" for b in at.button)
    assert lib.analysis(earlier.id).status == "done"


@pytest.mark.slow
def test_ten_minute_clip_ctrl_c_on_the_command_line(tmp_path):
    """Ctrl-C during the pose pass: exit 130, one line, no files, no process left running."""
    import signal
    import uuid

    from tests.test_faults import _marked_processes

    clip = hc.long_static_clip(tmp_path / "ten minutes.mp4", fps=10.0)
    out = tmp_path / "out"
    mark = uuid.uuid4().hex
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GAITSCOPE_TEST_MARK": mark}
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "analyze", str(clip), "--out", str(out),
                             "--model", "lite", "--workers", "2"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(8.0)  # start-up, probe, then the pose pass (minutes long for this clip)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["gaitscope: interrupted"]
    assert not out.exists() or not any(out.iterdir())
    deadline = time.monotonic() + 20
    while _marked_processes(mark) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _marked_processes(mark) == []
