"""The local library: dedup by content, generated paths, status life cycle, edits, damage detection."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from ui.library import STALE_AFTER_S, Library, LibraryError, default_data_dir


def test_same_clip_twice_is_stored_once_under_a_generated_name(tmp_path):
    lib = Library(tmp_path)
    data = os.urandom(50_000)
    clip, new = lib.add_clip(io.BytesIO(data), "../../etc/passwd .MOV")
    again, new2 = lib.add_clip(io.BytesIO(data), "other name.mp4")
    assert new and not new2 and again.id == clip.id
    assert clip.path.read_bytes() == data
    assert clip.path.parent.parent == tmp_path / "clips" and clip.path.name == "source.mov"
    assert clip.display_name == "../../etc/passwd .MOV"  # kept as text only
    assert list((tmp_path / "incoming").iterdir()) == []
    other, new3 = lib.add_clip(io.BytesIO(data + b"x"), "x.mp4")
    assert new3 and other.id != clip.id


def test_unknown_extension_is_not_used_in_the_path(tmp_path):
    clip, _ = Library(tmp_path).add_clip(io.BytesIO(b"abc"), "clip.sh")
    assert clip.path.name == "source.bin"


def test_analysis_life_cycle_and_listing(tmp_path):
    lib = Library(tmp_path)
    clip, _ = lib.add_clip(io.BytesIO(b"video bytes"), "run.mp4")
    a = lib.start_analysis(clip.id, runner="  Ann  ", height_cm=172.0, capture_fps=240.0, model="lite")
    assert (a.status, a.runner, a.height_cm, a.capture_fps, a.model) == ("running", "Ann", 172.0, 240.0, "lite")
    assert a.folder.is_dir() and a.clip_name == "run.mp4"
    lib.finish_analysis(a.id, "done")
    b = lib.start_analysis(clip.id, runner="Bob")
    lib.finish_analysis(b.id, "failed", "no runner found")
    listed = lib.analyses()
    assert [r.id for r in listed] == [b.id, a.id]  # newest first
    assert lib.analysis(b.id).message == "no runner found"
    with pytest.raises(ValueError):
        lib.finish_analysis(a.id, "weird")


def test_edits_append_undo_and_survive_reopening(tmp_path):
    lib = Library(tmp_path)
    clip, _ = lib.add_clip(io.BytesIO(b"v"), "v.mp4")
    a = lib.start_analysis(clip.id)
    lib.add_edit(a.id, {"kind": "reject", "strike_id": "L12"})
    lib.add_edit(a.id, {"kind": "move", "strike_id": "R30", "ic_frame": 31})
    assert Library(tmp_path).edits(a.id) == [{"kind": "reject", "strike_id": "L12"},
                                             {"kind": "move", "strike_id": "R30", "ic_frame": 31}]
    assert lib.undo_edit(a.id) == {"kind": "move", "strike_id": "R30", "ic_frame": 31}
    assert lib.edits(a.id) == [{"kind": "reject", "strike_id": "L12"}]
    lib.undo_edit(a.id)
    assert lib.undo_edit(a.id) is None


def test_delete_removes_analysis_and_unused_clip_only(tmp_path):
    lib = Library(tmp_path)
    clip, _ = lib.add_clip(io.BytesIO(b"v1"), "v.mp4")
    a = lib.start_analysis(clip.id)
    b = lib.start_analysis(clip.id)
    lib.add_edit(a.id, {"kind": "reject", "strike_id": "L1"})
    (a.folder / "analysis.json").write_text("{}")
    lib.delete_analysis(a.id)
    assert lib.analysis(a.id) is None and not a.folder.exists() and clip.path.is_file()
    assert lib.edits(a.id) == []
    lib.delete_analysis(b.id)
    assert lib.clip(clip.id) is None and not clip.path.exists()
    assert not any(p.name.startswith(".deleted") for p in (tmp_path / "analyses").iterdir())


def test_discard_clip_keeps_clips_in_use(tmp_path):
    lib = Library(tmp_path)
    used, _ = lib.add_clip(io.BytesIO(b"a"), "a.mp4")
    lib.start_analysis(used.id)
    junk, _ = lib.add_clip(io.BytesIO(b"b"), "b.mp4")
    assert not lib.discard_clip(used.id) and used.path.is_file()
    assert lib.discard_clip(junk.id) and lib.clip(junk.id) is None and not junk.path.exists()


def test_running_analysis_of_a_dead_process_is_marked_failed(tmp_path):
    lib = Library(tmp_path)
    clip, _ = lib.add_clip(io.BytesIO(b"v"), "v.mp4")
    a = lib.start_analysis(clip.id)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with sqlite3.connect(lib.db_path) as db:
        db.execute("UPDATE analyses SET owner_pid = ? WHERE id = ?", (dead.pid, a.id))
    fresh = lib.start_analysis(clip.id)  # owned by this live process, fresh heartbeat
    assert Library(tmp_path).analysis(a.id).status == "failed"
    assert "Interrupted" in lib.analysis(a.id).message
    assert lib.analysis(fresh.id).status == "running"
    assert lib.recover_interrupted(now_s=time.time() + STALE_AFTER_S + 1) == [fresh.id]
    lib.restart_analysis(a.id)
    assert lib.analysis(a.id).status == "running"


@pytest.mark.parametrize("damage", [b"this is not a database at all....", None])
def test_damaged_index_is_reported_and_left_untouched(tmp_path, damage):
    lib = Library(tmp_path)
    clip, _ = lib.add_clip(io.BytesIO(b"v"), "v.mp4")
    lib.start_analysis(clip.id)
    db = tmp_path / "library.sqlite3"
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = bytearray(db.read_bytes())
    if damage is None:  # keep the header, scramble the pages
        raw[100:] = bytes(len(raw) - 100)
        raw[200:4096] = b"\xff" * (4096 - 200)
    else:
        raw[: len(damage)] = damage
    db.write_bytes(bytes(raw))
    before = db.read_bytes()
    with pytest.raises(LibraryError, match="damaged") as err:
        Library(tmp_path).analyses()
    assert "has not changed it" in str(err.value)
    assert db.read_bytes() == before
    assert clip.path.is_file()


def test_data_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GAITSCOPE_DATA", str(tmp_path / "here"))
    assert default_data_dir() == tmp_path / "here"
    monkeypatch.delenv("GAITSCOPE_DATA")
    assert default_data_dir().name == "gaitscope"


def test_unwritable_data_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LibraryError, match="GAITSCOPE_DATA"):
        Library(blocker / "sub")
