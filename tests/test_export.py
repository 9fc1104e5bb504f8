"""Exports on the real sample clip (short frame ranges): browser-playable H.264, timing kept,
overlay drawn, atomic files (nothing partial after a failure or a cancel), tables."""

from __future__ import annotations

import csv
import io
import json
import types
from pathlib import Path

import av
import numpy as np
import pytest

import vision.writer
from metrics.errors import Cancelled
from metrics.landmarks import leg
from metrics.schema import STRIKE_FIELDS
from metrics.track import PoseTrack
from ui.export import (ExportError, ExportSource, atomic_write_bytes, export_annotated_clip, export_strikes_clip,
                       export_tables)
from ui.export_frames import export_contacts
from vision.palette import SIDE_RGB
from vision.video import iter_frames, probe
from vision.writer import VideoWriter

SAMPLE = Path(__file__).resolve().parents[1] / "sample_videos" / "zzzhushi_male_side.mp4"
RIGHT_LEG = {"hip": (330, 900), "knee": (300, 1030), "ankle": (330, 1160), "heel": (345, 1180), "foot_index": (280, 1185)}
LEFT_LEG = {"hip": (320, 900), "knee": (380, 1020), "ankle": (450, 1120), "heel": (470, 1110), "foot_index": (430, 1160)}
STRIKES = (
    {"foot": "right", "near": False, "ic_frame": 6, "ic_time_s": 0.2, "shin_angle_deg": 4.2, "overstride": 0.05},
    {"foot": "left", "near": True, "ic_frame": 14, "ic_time_s": 0.467, "shin_angle_deg": 8.0, "overstride": 0.1,
     "overstride_cm": 9.0},
    {"foot": "right", "near": False, "ic_frame": 30, "ic_time_s": 1.0, "shin_angle_deg": float("nan"), "rejected": True},
)


@pytest.fixture(scope="module")
def info():
    return probe(SAMPLE)


def _fixed_track(info, legs=(("left", LEFT_LEG), ("right", RIGHT_LEG))) -> PoseTrack:
    t = PoseTrack.empty(info.times_s(), (info.width, info.height))
    xy, vis = t.xy_px.copy(), t.visibility.copy()
    for side, pts in legs:
        for name, p in pts.items():
            xy[:, leg(side)[name]] = p
            vis[:, leg(side)[name]] = 1.0
    return t.replace(xy_px=xy, visibility=vis)


@pytest.fixture(scope="module")
def src(info):
    return ExportSource(info, _fixed_track(info), STRIKES, {"faces": "left", "near_side": "left"},
                        {"cadence_spm": 171.3, "per_foot": {"left": {"shin_angle_deg": {"mean": 8.0, "sd": None}}}})


def top_level_atoms(path: Path) -> list[str]:
    """Names of the MP4's top-level boxes, in file order."""
    data = path.read_bytes()
    names, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], "big")
        names.append(data[pos + 4:pos + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[pos + 8:pos + 16], "big")
        if size < 8:
            break
        pos += size
    return names


def decoded(path: Path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = [(float(f.pts * s.time_base), f.to_ndarray(format="rgb24")) for f in c.decode(s)]
        return s.codec_context.name, s.codec_context.pix_fmt, s.average_rate, frames


def _no_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_annotated_clip_is_browser_h264_with_every_frame_and_the_overlay(tmp_path, info, src):
    out = export_annotated_clip(src, tmp_path / "a.mp4", start=0, stop=24)
    assert out.name == "a.mp4" and _no_files(tmp_path) == [out]
    atoms = top_level_atoms(out)
    assert atoms.index("moov") < atoms.index("mdat")  # faststart: plays while downloading
    codec, pix_fmt, rate, frames = decoded(out)
    assert (codec, pix_fmt, float(rate)) == ("h264", "yuv420p", 30.0)
    assert len(frames) == 24
    assert np.allclose([t for t, _ in frames], np.arange(24) / 30, atol=1e-3)
    # right-foot contact at frame 6: the shin midpoint turns the right leg's colour (it is not in the picture)
    x, y = 315, 1095
    source = next(iter_frames(info, 6, 7)).rgb[y, x].astype(int)
    assert np.abs(source - SIDE_RGB["right"]).max() > 60
    assert np.abs(frames[6][1][y, x].astype(int) - SIDE_RGB["right"]).max() < 45


def test_variable_frame_rate_clip_keeps_each_frames_time(tmp_path):
    times = np.cumsum([0, 0.033, 0.05, 0.017, 0.033, 0.066, 0.033, 0.02, 0.046, 0.033, 0.033, 0.05])
    src_path = tmp_path / "vfr.mp4"
    small = [f.rgb[::4, ::4] for f in iter_frames(probe(SAMPLE), 0, len(times))]
    with VideoWriter(src_path, 30, (180, 320), timestamps=True) as w:
        for t, img in zip(times, small):
            w.write(img, float(t))
    vinfo = probe(src_path)
    assert vinfo.variable_frame_rate
    clip = ExportSource(vinfo, PoseTrack.empty(vinfo.times_s(), (vinfo.width, vinfo.height)), (), {"faces": "left"})
    _, _, _, frames = decoded(export_annotated_clip(clip, tmp_path / "out.mp4"))
    assert np.allclose([t for t, _ in frames], times, atol=1.5e-3)


def test_cancel_leaves_no_file(tmp_path, src):
    seen = []

    def progress(done, total):
        seen.append((done, total))
        return done < 5

    with pytest.raises(Cancelled):
        export_annotated_clip(src, tmp_path / "a.mp4", on_progress=progress, start=0, stop=20)
    assert seen[-1] == (5, 20)
    assert _no_files(tmp_path) == []


class _FullDisk:
    """Stands in for ``av`` inside the writer: the container's muxer hits a full disk."""

    def __init__(self, after_packets: int):
        self.after = after_packets
        self.error, self.VideoFrame = av.error, av.VideoFrame

    def open(self, *args, **kwargs):
        real = av.open(*args, **kwargs)
        budget = {"left": self.after}

        def mux(packet):
            if budget["left"] <= 0:
                raise OSError(28, "No space left on device")
            budget["left"] -= 1
            real.mux(packet)

        return types.SimpleNamespace(mux=mux, close=real.close, add_stream=real.add_stream)


def test_full_disk_is_a_clear_error_and_leaves_no_partial_file(tmp_path, src, monkeypatch):
    monkeypatch.setattr(vision.writer, "av", _FullDisk(after_packets=3))
    with pytest.raises(ExportError, match="disk is full"):
        export_annotated_clip(src, tmp_path / "a.mp4", start=0, stop=20)
    assert _no_files(tmp_path) == []


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "strikes.csv"
    target.write_text("old")

    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("ui.export.os.fsync", no_space)
    with pytest.raises(ExportError, match="disk is full"):
        atomic_write_bytes(target, b"new contents")
    assert target.read_text() == "old"
    assert _no_files(tmp_path) == [target]


def test_strikes_clip_is_slow_motion_with_a_freeze_on_each_contact(tmp_path, src):
    out = export_strikes_clip(src, tmp_path / "s.mp4")
    codec, pix_fmt, rate, frames = decoded(out)
    # two kept strikes (the rejected one is left out); each: +-0.2 s = 13 frames at 30 fps, the
    # contact frame held 0.6 s; 4x slower than real time -> 7.5 frames/s
    assert (codec, pix_fmt, float(rate)) == ("h264", "yuv420p", 7.5)
    n_freeze = 5  # 0.6 s at 7.5 frames/s, rounded half up
    assert len(frames) == 2 * (13 - 1 + n_freeze)
    held = [img for _, img in frames[6:6 + n_freeze]]
    assert all(np.abs(h.astype(int) - held[0].astype(int)).mean() < 2 for h in held)
    assert top_level_atoms(out).index("moov") < top_level_atoms(out).index("mdat")


def test_contact_stills_and_sheets(tmp_path, src):
    import cv2

    cells: dict = {}
    paths = export_contacts(src, tmp_path, cells_out=cells)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in paths)
    assert names == ["contact_sheet_left.png", "contact_sheet_right.png", "contacts/strike_01_R_f00006.png",
                     "contacts/strike_02_L_f00014.png", "contacts/strike_03_R_f00030.png"]
    still = cv2.imread(str(tmp_path / "contacts" / "strike_02_L_f00014.png"))
    assert still.shape == (1280, 720, 3)
    # the left shin is drawn in the left colour on the still (BGR on disk)
    assert np.abs(still[1070, 415, ::-1].astype(int) - SIDE_RGB["left"]).max() < 40
    assert [m.number for m, _ in cells["right"]] == [1, 3] and cells["right"][1][0].rejected
    sheet = cv2.imread(str(tmp_path / "contact_sheet_right.png"))
    assert sheet.shape[0] > 320 and sheet.shape[1] > 2 * 240


def test_contact_export_is_all_or_nothing_when_cancelled(tmp_path, src):
    with pytest.raises(Cancelled):
        export_contacts(src, tmp_path, on_progress=lambda done, total: done < 20)
    assert _no_files(tmp_path) == []


def test_tables(tmp_path, src):
    paths = export_tables(src, tmp_path)
    assert [p.name for p in paths] == ["strikes.csv", "summary.csv", "gaitscope_export.json"]
    rows = list(csv.DictReader(io.StringIO(paths[0].read_text())))
    assert list(rows[0])[:len(STRIKE_FIELDS)] == list(STRIKE_FIELDS)
    assert [r["ic_frame"] for r in rows] == ["6", "14", "30"]
    summary = dict(csv.reader(io.StringIO(paths[1].read_text())))
    assert summary["cadence_spm"] == "171.3" and summary["per_foot.left.shin_angle_deg.mean"] == "8.0"
    doc = json.loads(paths[2].read_text())
    assert doc["strikes"][2]["shin_angle_deg"] is None  # NaN is not JSON
    assert doc["video"]["frames"] == 360 and doc["runner"]["faces"] == "left"


@pytest.mark.slow
def test_overlay_follows_the_real_pose_model(tmp_path, info):
    """The pose model's own knee and ankle on the sample clip: the annotated frame has the
    near (left) leg's colour half-way down its shin."""
    from vision.pose import estimate_track

    part = estimate_track(info, "lite", 0, 12)
    full = PoseTrack.empty(info.times_s(), (info.width, info.height))
    xy, vis = full.xy_px.copy(), full.visibility.copy()
    xy[:12], vis[:12] = part.xy_px, part.visibility
    track = full.replace(xy_px=xy, visibility=vis)
    knee, ankle = xy[10, leg("left")["knee"]], xy[10, leg("left")["ankle"]]
    assert np.isfinite(knee).all() and np.isfinite(ankle).all()
    strikes = ({"foot": "left", "ic_frame": 10, "shin_angle_deg": 3.0},)
    clip = ExportSource(info, track, strikes, {"faces": "left"})
    _, _, _, frames = decoded(export_annotated_clip(clip, tmp_path / "a.mp4", start=0, stop=12))
    mid = ((knee + ankle) / 2).round().astype(int)
    assert np.abs(frames[10][1][mid[1], mid[0]].astype(int) - SIDE_RGB["left"]).max() < 45


def test_shrunk_export_scales_the_overlay_with_the_picture(tmp_path, src):
    out = export_annotated_clip(src, tmp_path / "small.mp4", start=6, stop=8, max_side=640)
    _, _, _, frames = decoded(out)
    img = frames[0][1]
    assert img.shape == (640, 360, 3)
    x, y = 315 / 2, 1095 / 2  # the right shin's midpoint, at half size
    assert np.abs(img[int(y), int(x)].astype(int) - SIDE_RGB["right"]).max() < 45


# ----------------------------------------------------------------------------- exports as background jobs (the app)

def _wait_state(job, timeout_s: float = 120.0) -> str:
    job.join(timeout_s)
    return job.status().state


def test_export_job_writes_in_the_background_with_progress(tmp_path, src):
    from ui.app_export import run_export
    from ui.app_jobs import ExportJob

    job = ExportJob("a/export/annotated", lambda p: run_export("annotated", src, tmp_path, None, p),
                    log_error=lambda exc: "X").start()
    assert _wait_state(job) == "done", job.status().message
    s = job.status()
    assert s.total == src.info.frames and s.done == s.total and s.elapsed_s > 0
    assert job.make is None  # a finished job keeps no snapshot of the analysis in the app's memory
    assert len(decoded(tmp_path / "annotated.mp4")[3]) == src.info.frames


def _cancel_once_started(job, timeout_s: float = 60.0) -> None:
    """Cancel ``job`` as soon as it has reported its first progress."""
    import time

    deadline = time.monotonic() + timeout_s
    while job.status().done == 0 and job.status().state == "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    job.cancel()


def test_cancelled_export_job_leaves_no_file(tmp_path, src):
    from ui.app_export import run_export
    from ui.app_jobs import ExportJob

    job = ExportJob("a/export/strikes", lambda p: run_export("strikes", src, tmp_path, None, p),
                    log_error=lambda exc: "X").start()
    _cancel_once_started(job)
    assert _wait_state(job) == "cancelled"
    assert "nothing was written" in job.status().message
    assert _no_files(tmp_path) == []


def test_cancelled_remake_keeps_the_earlier_export(tmp_path, src):
    from ui.app_export import run_export
    from ui.app_jobs import ExportJob

    first = run_export("annotated", src, tmp_path, None)
    before = first.read_bytes()
    job = ExportJob("a/export/annotated", lambda p: run_export("annotated", src, tmp_path, None, p),
                    log_error=lambda exc: "X").start()
    _cancel_once_started(job)
    assert _wait_state(job) == "cancelled"
    assert _no_files(tmp_path) == [first] and first.read_bytes() == before


def test_failed_export_job_gives_a_message_not_a_traceback():
    from metrics.errors import GaitscopeError
    from ui.app_jobs import ExportJob

    def bug(_progress):
        raise KeyError("oops")

    def refused(_progress):
        raise GaitscopeError("The disk is full: free some space and make the export again.")

    logged = []
    job = ExportJob("a/export/report", bug, log_error=lambda exc: logged.append(exc) or "AB12CD").start()
    assert _wait_state(job) == "failed"
    assert "error AB12CD" in job.status().message and "Traceback" not in job.status().message
    assert isinstance(logged[0], KeyError)
    job = ExportJob("a/export/report", refused, log_error=lambda exc: "never").start()
    assert _wait_state(job) == "failed" and job.status().message.startswith("The disk is full")


@pytest.mark.parametrize("corrected_meanwhile", [False, True])
def test_export_shows_the_strikes_of_its_start_and_is_stale_after_a_later_correction(
        tmp_path, src, monkeypatch, corrected_meanwhile):
    """The user may correct a strike while an export is written: that export must then be flagged."""
    import copy
    import threading

    import ui.app_export as ae
    from ui.app_jobs import JobRegistry

    document = {"strikes": [dict(s) for s in STRIKES]}
    review = types.SimpleNamespace(rec=types.SimpleNamespace(id="a1", runner="R", folder=tmp_path),
                                   document=document)
    gate, real = threading.Event(), ae.run_export
    monkeypatch.setattr(ae, "export_source", lambda r: src)
    monkeypatch.setattr(ae, "jobs", lambda registry=JobRegistry(): registry)
    monkeypatch.setattr(ae, "run_export", lambda *a, **k: gate.wait(30) and real(*a, **k))
    job = ae.start_export("tables", review, tmp_path / "exports", log_error=lambda exc: "X")
    before = copy.deepcopy(document)
    if corrected_meanwhile:  # a strike moved while the export is still being written
        document["strikes"][0]["ic_frame"] += 1
    gate.set()
    assert _wait_state(job) == "done", job.status().message
    out = tmp_path / "exports" / "tables.zip"
    assert ae._stale(out, review) is corrected_meanwhile
    assert ae._stale(out, types.SimpleNamespace(document=before)) is False  # it shows the strikes of its start
