"""Faults that must be survived: killed mid-analysis or mid-export, a full disk, two analyses
at once, the same clip twice, a damaged library index.

Kills are real: a child process sends itself ``SIGKILL`` at the moment under test. Most
tests replace the pose model with a synthetic track of the clip's length (the fault is in
the writing, not in the model); the ones marked slow run the real model.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from tests import hostile_clips as hc
from tests.fault_kit import KILL_SELF, run_child, small_disk_command, synthetic_source
from tests.hostile_cases import cli_args
from tests.synthetic import synth_run
from ui.app_jobs import AnalysisJob, JobRegistry
from ui.library import Library, LibraryError
from ui.pipeline import AnalyzeOptions, analyze
from vision.video import probe

KILLED = -9


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """3 s of the sample at 240x426."""
    return hc.small_clip(tmp_path_factory.mktemp("fault_clips") / "run.mp4", 3.0, max_side=426)


def partial_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".part" in p.name)


def complete_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file() and ".part" not in p.name}


#: Child-side preamble: the pose model replaced by a synthetic runner of the clip's length.
_SYNTHETIC_POSE = KILL_SELF + """
import sys
from pathlib import Path
from tests.synthetic import synth_run
import ui.pipeline as pipeline
from vision.video import probe

def synthetic_pose(info, options, on_progress, on_frame=None):
    track, _ = synth_run(duration_s=info.frames / info.fps, fps=info.fps, size=(info.width, info.height),
                         leg_px=0.35 * info.height)
    for i in range(1, info.frames + 1):
        if on_progress and on_progress("pose", i, info.frames) is False:
            from metrics.errors import Cancelled
            raise Cancelled("cancelled")
    return track[: info.frames]

pipeline.run_pose = synthetic_pose
"""


def _synthetic_pose(info, options, on_progress, on_frame=None):
    track, _ = synth_run(duration_s=info.frames / info.fps, fps=info.fps, size=(info.width, info.height),
                         leg_px=0.35 * info.height)
    return track[: info.frames]


# --------------------------------------------------------------- killed during an analysis (command line)

_KILL_POINTS = {
    "pose": """
import ui.cli as cli
class KillingBar:
    def __call__(self, stage, done, total):
        if stage == "pose" and done >= total // 2:
            kill_self()
cli._Bar = KillingBar
""",
    "cache_half_written": """
import numpy as np
real = np.savez_compressed
def half_then_die(file, **arrays):
    real(file, **arrays)
    data = Path(file).read_bytes()
    Path(file).write_bytes(data[: len(data) // 2])
    kill_self()
np.savez_compressed = half_then_die
""",
    "results_half_written": """
import ui.results as results
real_open = open
class HalfFile:
    def __init__(self, f): self.f = f
    def __enter__(self): return self
    def __exit__(self, *a): self.f.close()
    def write(self, text):
        self.f.write(text[: len(text) // 2]); self.f.flush(); kill_self()
    def __getattr__(self, k): return getattr(self.f, k)
def dying_open(path, *a, **k):
    f = real_open(path, *a, **k)
    return HalfFile(f) if ".analysis.json" in str(path) else f
results.open = dying_open
""",
    "before_rename": """
import ui.results as results, os as _os
real_replace = _os.replace
class OsProxy:
    def __getattr__(self, k): return getattr(_os, k)
    def replace(self, src, dst):
        if str(dst).endswith("analysis.json"):
            kill_self()
        return real_replace(src, dst)
results.os = OsProxy()
""",
}


@pytest.mark.parametrize("point", list(_KILL_POINTS))
def test_command_killed_mid_analysis_leaves_no_partial_result_and_reruns(point, clip, tmp_path):
    out = tmp_path / "out"
    source = _SYNTHETIC_POSE + _KILL_POINTS[point] + """
import ui.cli as cli
sys.exit(cli.main(sys.argv[1:]))
"""
    proc = run_child(source, *cli_args(clip, out))
    assert proc.returncode == KILLED, proc.stderr[-2000:]
    assert not (out / "analysis.json").exists(), "no analysis is presented as complete"
    if point in ("pose", "cache_half_written"):
        assert not (out / "pose_track.npz").exists(), "no half-written pose cache under its final name"
    else:
        with np.load(out / "pose_track.npz", allow_pickle=False) as z:  # the cache was complete before the kill
            assert z["xy_px"].shape[0] == probe(clip).frames
    # started again: a complete, consistent analysis; the temporary files are gone
    proc = run_child(_SYNTHETIC_POSE + "import ui.cli as cli\nsys.exit(cli.main(sys.argv[1:]))\n",
                     *cli_args(clip, out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((out / "analysis.json").read_text())
    assert doc["video"]["frames"] == probe(clip).frames and doc["strikes"]
    assert partial_files(out) == []


@pytest.mark.slow
def test_command_killed_during_the_real_pose_pass_leaves_no_orphan_workers(tmp_path):
    """The real model in two worker processes; the command is killed half way through."""
    clip = hc.small_clip(tmp_path / "run.mp4", 4.0, max_side=426)  # 120 frames: split across workers
    out = tmp_path / "out"
    mark = uuid.uuid4().hex
    source = KILL_SELF + """
import sys, os
import ui.cli as cli
class KillingBar:
    def __call__(self, stage, done, total):
        if stage == "pose" and done >= 30:
            kill_self()
cli._Bar = KillingBar
sys.exit(cli.main(sys.argv[1:]))
"""
    os.environ["GAITSCOPE_TEST_MARK"] = mark
    try:
        proc = run_child(source, "analyze", str(clip), "--out", str(out), "--model", "lite", "--workers", "2")
    finally:
        del os.environ["GAITSCOPE_TEST_MARK"]
    assert proc.returncode == KILLED, proc.stderr[-2000:]
    assert not (out / "analysis.json").exists()
    deadline = time.monotonic() + 30
    while _marked_processes(mark) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _marked_processes(mark) == [], "pose workers outlived the killed command"
    a = analyze(clip, out, AnalyzeOptions(model="lite", workers=1))
    assert a.document["strikes"] and partial_files(out) == []


def _marked_processes(mark: str) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if f"GAITSCOPE_TEST_MARK={mark}".encode() in (d / "environ").read_bytes():
                if (d / "stat").read_text().split()[2] != "Z":
                    found.append(int(d.name))
        except OSError:
            continue
    return found


# --------------------------------------------------------------- killed during an analysis (app)

def test_app_killed_mid_analysis_is_marked_interrupted_and_runs_again(clip, tmp_path, monkeypatch):
    data = tmp_path / "data"
    lib = Library(data)
    with open(clip, "rb") as f:
        c, _ = lib.add_clip(f, "Ann's run.mp4")
    done = lib.start_analysis(c.id, runner="earlier")
    (done.folder / "analysis.json").write_text('{"earlier": true}')
    lib.finish_analysis(done.id, "done")
    source = _SYNTHETIC_POSE + """
from ui.app_jobs import AnalysisJob
from ui.library import Library
import ui.app_jobs as jobs
from ui.pipeline import AnalyzeOptions
real = jobs.analyze
def dying(video, folder, options, on_progress):
    def progress(stage, d, t):
        if stage == "pose" and d >= t // 2:
            kill_self()
        return on_progress(stage, d, t)
    return real(video, folder, options, on_progress=progress)
jobs.analyze = dying
lib = Library(sys.argv[1])
clip = lib.clip(sys.argv[2])
rec = lib.start_analysis(clip.id, runner="Ann")
print(rec.id, flush=True)
AnalysisJob(lib.root, rec.id, clip.path, AnalyzeOptions(model="lite")).start().join(120)
"""
    proc = run_child(source, str(data), c.id)
    assert proc.returncode == KILLED, proc.stderr[-2000:]
    aid = proc.stdout.split()[0]
    lib = Library(data)  # the app started again
    rec = lib.analysis(aid)
    assert rec.status == "failed" and "Interrupted" in rec.message and "Run it again" in rec.message
    assert not (rec.folder / "analysis.json").exists()
    assert lib.analysis(done.id).status == "done"
    assert (done.folder / "analysis.json").read_text() == '{"earlier": true}'
    with sqlite3.connect(lib.db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert c.path.read_bytes() == clip.read_bytes()
    monkeypatch.setattr("ui.pipeline.run_pose", _synthetic_pose)
    job = AnalysisJob(lib.root, aid, c.path, AnalyzeOptions(model="lite"))
    lib.restart_analysis(aid)
    job.start().join(120)
    assert lib.analysis(aid).status == "done", lib.analysis(aid).message
    assert json.loads((rec.folder / "analysis.json").read_text())["strikes"]
    assert partial_files(data / "analyses") == []


def test_upload_killed_half_way_is_never_listed(clip, tmp_path):
    data = tmp_path / "data"
    Library(data)
    source = KILL_SELF + """
import sys
from ui.library import Library
class Dying:
    def __init__(self, data): self.data, self.pos = data, 0
    def read(self, n=-1):
        if self.pos > len(self.data) // 2:
            kill_self()
        block = self.data[self.pos:self.pos + 4096]
        self.pos += len(block)
        return block
Library(sys.argv[1]).add_clip(Dying(open(sys.argv[2], "rb").read()), "half.mp4")
"""
    proc = run_child(source, str(data), str(clip))
    assert proc.returncode == KILLED, proc.stderr[-2000:]
    parts = list((data / "incoming").iterdir())
    assert len(parts) == 1 and parts[0].suffix == ".part", "the cut-off upload stays a temporary file"
    old = time.time() - 600
    os.utime(parts[0], (old, old))  # the crash was ten minutes ago
    lib = Library(data)  # the app started again
    assert lib.clip_by_sha(hashlib.sha256(clip.read_bytes()).hexdigest()) is None
    assert list((data / "clips").iterdir()) == []
    assert list((data / "incoming").iterdir()) == [], "the dead upload's temporary file is cleared"
    with open(clip, "rb") as f:
        c, new = lib.add_clip(f, "whole.mp4")
    assert new and c.path.read_bytes() == clip.read_bytes()


# --------------------------------------------------------------- killed during an export

def test_export_killed_mid_clip_leaves_no_file_under_the_final_name(clip, tmp_path):
    target = tmp_path / "exports" / "annotated.mp4"
    source = KILL_SELF + """
import sys
from pathlib import Path
from tests.fault_kit import synthetic_source
from ui.export import export_annotated_clip
src, _ = synthetic_source(Path(sys.argv[1]))
def progress(done, total):
    if done >= total // 2:
        kill_self()
export_annotated_clip(src, sys.argv[2], on_progress=progress)
"""
    proc = run_child(source, str(clip), str(target))
    assert proc.returncode == KILLED, proc.stderr[-2000:]
    assert not target.exists()
    assert partial_files(target.parent), "the kill came while the clip was being written"
    from ui.export import export_annotated_clip

    src, _ = synthetic_source(clip)
    export_annotated_clip(src, target)
    info = probe(target)
    assert info.frames == src.info.frames
    assert partial_files(target.parent) == [], "the next export replaces the stale temporary file"


# --------------------------------------------------------------- a full disk

_EXPORT_ON_SMALL_DISK = """
import json, sys
from pathlib import Path
from tests.fault_kit import synthetic_source
from metrics.errors import GaitscopeError
clip, disk, kind = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
src, gait = synthetic_source(clip)
try:
    if kind == "annotated":
        from ui.export import export_annotated_clip
        export_annotated_clip(src, disk / "annotated.mp4")
    elif kind == "strikes":
        from ui.export import export_strikes_clip
        export_strikes_clip(src, disk / "strikes.mp4")
    elif kind == "tables":
        from ui.export import export_tables
        export_tables(src, disk / "tables")
    elif kind == "report":
        from ui.report import write_report
        write_report(src, disk / "report.html", runner_name="Ann")
    elif kind == "results":
        from ui.results import write_results
        import ui.pipeline as pipeline
        from vision.video import probe
        pipeline.run_pose = lambda info, options, on_progress, on_frame=None: gait.track_clean
        pipeline.analyze(clip, disk / "analysis", pipeline.AnalyzeOptions(model="lite"))
    message = ""
except GaitscopeError as exc:
    message = str(exc)
left = sorted(str(p.relative_to(disk)) for p in disk.rglob("*") if p.is_file())
print(json.dumps({"message": message, "left": left}))
"""


@pytest.mark.parametrize("kind,size_kb", [("annotated", 64), ("strikes", 64), ("tables", 4), ("report", 16),
                                          ("results", 24)])
def test_disk_full_gives_a_clear_error_and_removes_the_partial_file(kind, size_kb, clip, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    prefix = small_disk_command(disk, size_kb)
    if prefix is None:
        pytest.skip("cannot mount a small tmpfs here (needs unprivileged user namespaces or root)")
    proc = run_child(_EXPORT_ON_SMALL_DISK, str(clip), str(disk), kind, prefix=prefix)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "disk is full" in r["message"].lower(), r
    assert not [name for name in r["left"] if ".part" in name], r["left"]


# --------------------------------------------------------------- two analyses at once, the same clip twice

@pytest.mark.slow
def test_two_tabs_analysing_at_once_both_finish(clip, tmp_path):
    """Two analyses in two threads of one app process (two browser tabs), the real model in each."""
    lib = Library(tmp_path / "data")
    other = hc.small_clip(tmp_path / "other.mp4", 2.5, max_side=426, start=120)
    recs = []
    for path, name in ((clip, "first.mp4"), (other, "second.mp4")):
        with open(path, "rb") as f:
            c, _ = lib.add_clip(f, name)
        recs.append((lib.start_analysis(c.id, model="lite"), c))
    registry = JobRegistry()
    jobs = [registry.submit(AnalysisJob(lib.root, r.id, c.path, AnalyzeOptions(model="lite", workers=1)))
            for r, c in recs]
    assert len(registry.running()) == 2
    for j in jobs:
        j.join(300)
    for r, c in recs:
        rec = lib.analysis(r.id)
        assert rec.status == "done", rec.message
        doc = json.loads((rec.folder / "analysis.json").read_text())
        assert doc["video"]["sha256"] == c.sha256 and doc["strikes"]
    with sqlite3.connect(lib.db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_same_clip_uploaded_twice_at_the_same_moment_is_stored_once(clip, tmp_path, monkeypatch):
    """Two tabs upload the same file at once: both look it up before either has registered it."""
    lib = Library(tmp_path / "data")
    data = clip.read_bytes()
    gate = threading.Barrier(2)
    real_lookup = Library.clip_by_sha

    def lookup_then_wait(self, sha256):
        found = real_lookup(self, sha256)
        try:
            gate.wait(timeout=10)  # both uploads have looked and found nothing
        except threading.BrokenBarrierError:
            pass
        return found

    monkeypatch.setattr(Library, "clip_by_sha", lookup_then_wait)
    results, errors = [], []

    def upload(name):
        try:
            results.append(lib.add_clip(io.BytesIO(data), name))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(n,)) for n in ("tab one.mp4", "tab two.mov")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len({c.id for c, _ in results}) == 1, "one clip for one content"
    assert sorted(new for _, new in results) == [False, True]
    assert [p.name for p in (tmp_path / "data" / "clips").iterdir()] == [results[0][0].id]
    assert list((tmp_path / "data" / "incoming").iterdir()) == []
    assert results[0][0].path.read_bytes() == data


def test_same_clip_uploaded_again_is_recognised_by_content(clip, tmp_path):
    lib = Library(tmp_path / "data")
    first, new1 = lib.add_clip(io.BytesIO(clip.read_bytes()), "monday.mp4")
    a = lib.start_analysis(first.id)
    lib.finish_analysis(a.id, "done")
    again, new2 = lib.add_clip(io.BytesIO(clip.read_bytes()), "../../renamed on tuesday.MOV")
    assert (new1, new2) == (True, False) and again.id == first.id and again.display_name == "monday.mp4"
    assert [x.id for x in lib.analyses(again.id)] == [a.id], "the earlier analysis is found for the upload"


# --------------------------------------------------------------- a damaged index

def _library_with_one_analysis(root: Path):
    lib = Library(root)
    c, _ = lib.add_clip(io.BytesIO(b"clip bytes" * 100), "run.mp4")
    a = lib.start_analysis(c.id, runner="Ann")
    lib.finish_analysis(a.id, "done")
    with sqlite3.connect(lib.db_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return lib, c


def _damage(db: Path, how: str) -> None:
    raw = bytearray(db.read_bytes())
    if how == "truncated":
        db.write_bytes(bytes(raw[: len(raw) // 3]))
    elif how == "emptied":
        db.write_bytes(b"")
    elif how == "header_overwritten":
        db.write_bytes(os.urandom(100) + bytes(raw[100:]))
    elif how == "pages_scrambled":
        raw[1024:] = os.urandom(len(raw) - 1024)
        db.write_bytes(bytes(raw))
    elif how == "replaced_by_a_picture":
        db.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(3000))


@pytest.mark.parametrize("how", ["truncated", "emptied", "header_overwritten", "pages_scrambled",
                                 "replaced_by_a_picture"])
def test_damaged_index_is_detected_reported_and_left_as_it_is(how, tmp_path):
    root = tmp_path / "data"
    _, c = _library_with_one_analysis(root)
    db = root / "library.sqlite3"
    _damage(db, how)
    before = db.read_bytes()
    files_before = complete_files(root / "clips")
    with pytest.raises(LibraryError) as err:
        Library(root).analyses()
    msg = str(err.value)
    assert "damaged" in msg and "has not changed it" in msg and str(db) in msg
    assert db.read_bytes() == before, "the damaged index is not replaced or repaired silently"
    assert complete_files(root / "clips") == files_before
    assert not (root / "library.sqlite3-wal").exists() or (root / "library.sqlite3-wal").stat().st_size == 0


def test_cli_is_not_affected_by_a_damaged_library(tmp_path, capsys, monkeypatch, clip):
    """The command line does not use the library: a damaged index elsewhere changes nothing."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "library.sqlite3").write_bytes(b"junk" * 100)
    monkeypatch.setenv("GAITSCOPE_DATA", str(tmp_path / "data"))
    monkeypatch.setattr("ui.pipeline.run_pose", _synthetic_pose)
    from ui.cli import main

    assert main(cli_args(clip, tmp_path / "out")) == 0
    assert (tmp_path / "data" / "library.sqlite3").read_bytes() == b"junk" * 100

