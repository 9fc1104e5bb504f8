"""The app's flows with Streamlit's AppTest: upload, analyse, cancel, review, jump, correct, undo, export.

One short clip (4 s of the sample) is analysed once per module into a temporary library;
later flows reuse its pose track, so only that first analysis runs the pose model.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from tests.clipmaker import excerpt
from ui.app_jobs import AnalysisJob
from ui.library import Library
from ui.pipeline import AnalyzeOptions

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return excerpt(tmp_path_factory.mktemp("app_clips") / "run.mp4", 4.0)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, clip):
    """A library holding one finished analysis of ``clip``: (data folder, analysis id)."""
    data = tmp_path_factory.mktemp("app_data")
    lib = Library(data)
    with open(clip, "rb") as f:
        rec_clip, _ = lib.add_clip(f, "run.mp4")
    rec = lib.start_analysis(rec_clip.id, runner="Test runner", height_cm=178.0)
    job = AnalysisJob(lib.root, rec.id, rec_clip.path, AnalyzeOptions(runner_height_cm=178.0)).start()
    job.join(600)
    assert lib.analysis(rec.id).status == "done", lib.analysis(rec.id).message
    return data, rec.id


@pytest.fixture()
def data_env(monkeypatch, analysed):
    monkeypatch.setenv("GAITSCOPE_DATA", str(analysed[0]))
    return analysed


def _app(analysis_id: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    if analysis_id:
        at.query_params["a"] = analysis_id
    return at.run()


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _texts(at) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
                    + [w.value for w in at.warning] + [i.value for i in at.info] + [t.value for t in at.toast])


def _wait_done(lib: Library, analysis_id: str, timeout_s: float = 300) -> str:
    deadline = time.monotonic() + timeout_s
    while lib.analysis(analysis_id).status == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
    return lib.analysis(analysis_id).status


def test_upload_analyse_and_review(data_env, clip):
    data, first_id = data_env
    lib = Library(data)
    at = _app()
    _ok(at)
    at.file_uploader[0].upload("My run.MOV", clip.read_bytes(), "video/quicktime")
    at.run()
    _ok(at)
    assert "already in your library" in _texts(at)  # same bytes as the fixture's clip
    assert "640×360" in _texts(at) or "frames at 30.00 fps" in _texts(at)
    at.text_input[0].set_value("Second look")
    at.button(key="FormSubmitter:analyse-form-Analyse").click().run()
    _ok(at)
    new_id = at.query_params["a"]
    new_id = new_id[0] if isinstance(new_id, list) else new_id
    assert new_id != first_id
    assert _wait_done(lib, new_id) == "done", lib.analysis(new_id).message
    at.run()
    _ok(at)
    assert "Second look" in [m.value for m in at.markdown][1:] or "### Second look" in _texts(at)
    assert len(at.metric) == 5 and at.metric[0].label == "Cadence"
    assert at.dataframe[0].value.shape[0] == len(json.loads((lib.analysis(new_id).folder / "analysis.json")
                                                           .read_text())["strikes"])
    assert len(lib.analyses()) == 2 and len({a.clip_id for a in lib.analyses()}) == 1
    lib.delete_analysis(new_id)


def test_results_show_while_the_player_proxy_is_still_written(data_env, clip, monkeypatch):
    """The strikes and summary are shown as soon as the measures are done; the player follows."""
    import threading

    import ui.app_jobs
    from ui.app_state import jobs

    data, _ = data_env
    lib = Library(data)
    gate, real = threading.Event(), ui.app_jobs.make_proxy
    monkeypatch.setattr(ui.app_jobs, "make_proxy", lambda *a, **k: gate.wait(120) and real(*a, **k))
    rec_clip = lib.clip(lib.analyses()[0].clip_id)
    rec = lib.start_analysis(rec_clip.id, runner="Early look")
    job = jobs().submit(AnalysisJob(lib.root, rec.id, rec_clip.path, AnalyzeOptions()))
    try:
        assert _wait_done(lib, rec.id) == "done", lib.analysis(rec.id).message
        assert job.status().state == "running" and job.status().stage == "player"
        at = _app(rec.id)
        _ok(at)
        assert len(at.metric) == 5 and at.dataframe[0].value.shape[0] > 0  # the results are there
        pending = [p.proto.text for p in at.get("progress")]
        assert any("Preparing the frame-accurate player" in t for t in pending), pending
        assert not (rec.folder / "proxy.mp4").exists()  # the page did not make a second proxy itself
    finally:
        gate.set()
        job.join(300)
    assert job.status().state == "done" and (rec.folder / "proxy.json").is_file()
    at.run()
    _ok(at)
    assert not any("Preparing the frame-accurate player" in p.proto.text for p in at.get("progress"))
    jobs().stop_analysis(rec.id)
    lib.delete_analysis(rec.id)


def test_compare_tab_picks_the_runners_earlier_session(data_env):
    """A second visit of the same runner: the Compare tab chooses the earlier one and compares every measure."""
    from ui.app_state import jobs

    data, first_id = data_env
    lib = Library(data)
    first = lib.analysis(first_id)
    time.sleep(1.1)  # a later creation time than the first visit
    rec = lib.start_analysis(first.clip_id, runner="  test RUNNER ", height_cm=178.0)
    AnalysisJob(lib.root, rec.id, lib.clip(first.clip_id).path, AnalyzeOptions(runner_height_cm=178.0)).start().join(600)
    assert lib.analysis(rec.id).status == "done"
    try:
        at = _app(rec.id)
        _ok(at)
        box = next(b for b in at.selectbox if b.label == "Compare with")
        assert box.value is not None and box.value.id == first_id  # same runner (name as typed), earlier
        table = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
        assert {"left", "right"} <= set(table["foot"])
        assert any(m.startswith("Shin angle at contact") for m in table["measure"])
        # the same clip analysed twice: nothing changed, and the page says so for every row with enough strikes
        assert set(table["verdict"]) <= {"no clear change", "too few strikes"}
        assert (table["change"].isin(["+0", "+0.0", "-0", "-0.0"]) | (table["change"] == "–")).all()
        assert any("shin angle at contact" in m.value and "no clear change" in m.value for m in at.markdown)

        # the one-page report then carries the comparison too
        from ui.app_jobs import export_key
        from ui.app_state import jobs

        assert any("report compares with the session of" in c.value for c in at.caption)
        next(b for b in at.button if b.label == "Make: One-page report (HTML)").click().run()
        _ok(at)
        jobs().get(export_key(rec.id, "report")).join(300)
        page = (lib.exports_dir(rec.id) / "report.html").read_text()
        assert f"Since {first.created_utc[:10]}" in page and "no clear change" in page
    finally:
        jobs().stop_analysis(rec.id)
        lib.delete_analysis(rec.id)


def test_a_long_library_shows_the_newest_and_finds_a_runner(data_env):
    from ui.app_views import LIBRARY_PAGE

    data, first_id = data_env
    lib = Library(data)
    clip_id = lib.analysis(first_id).clip_id
    made = []
    for i in range(LIBRARY_PAGE + 5):
        rec = lib.start_analysis(clip_id, runner="Zebra Quick" if i == 0 else f"Runner {i}")
        lib.finish_analysis(rec.id, "failed", "not run")
        made.append(rec.id)
    try:
        total = len(lib.analyses())
        at = _app()
        _ok(at)
        opens = [b for b in at.sidebar.button if b.label == "Open"]
        assert len(opens) == LIBRARY_PAGE
        more = next(b for b in at.sidebar.button if b.label == f"Show all {total}")
        more.click().run()
        _ok(at)
        assert len([b for b in at.sidebar.button if b.label == "Open"]) == total
        at.sidebar.text_input(key="library:find").set_value("zebra").run()
        _ok(at)
        assert [b.key for b in at.sidebar.button if b.label == "Open"] == [f"open-{made[0]}"]
    finally:
        for aid in made:
            lib.delete_analysis(aid)


def test_not_a_video_gets_a_message_and_nothing_is_kept(data_env):
    data, _ = data_env
    lib = Library(data)
    before = ({c.name for c in (Path(data) / "clips").iterdir()}, [a.id for a in lib.analyses()])
    at = _app()
    at.file_uploader[0].upload("holiday.mp4", b"not a video at all" * 500, "video/mp4").run()
    _ok(at)
    assert any("This file cannot be analysed" in e.value and "holiday.mp4" in e.value for e in at.error)
    assert ({c.name for c in (Path(data) / "clips").iterdir()}, [a.id for a in lib.analyses()]) == before
    assert any(b.label == "Open the sample clip" for b in at.button)


def test_cancel_marks_the_analysis_and_keeps_the_library(data_env, tmp_path):
    data, first_id = data_env
    lib = Library(data)
    other = excerpt(tmp_path / "other.mp4", 3.0, start_frame=60)
    at = _app()
    at.file_uploader[0].upload("other.mp4", other.read_bytes(), "video/mp4").run()
    at.button(key="FormSubmitter:analyse-form-Analyse").click().run()
    _ok(at)
    aid = at.query_params["a"]
    aid = aid[0] if isinstance(aid, list) else aid
    cancel = [b for b in at.button if b.label == "Cancel"]
    assert cancel, "the progress view offers Cancel"
    cancel[0].click().run()
    assert _wait_done(lib, aid, 60) == "failed"
    assert "Cancelled" in lib.analysis(aid).message
    at.run()
    _ok(at)
    assert any(b.label == "Run again" for b in at.button)
    assert lib.analysis(first_id).status == "done"
    lib.delete_analysis(aid)


def _strikes(data, aid) -> list[dict]:
    return json.loads((Library(data).analysis(aid).folder / "analysis.json").read_text())["strikes"]


def test_choose_row_correct_undo_and_reload(data_env):
    data, aid = data_env
    lib = Library(data)
    at = _app(aid)
    _ok(at)
    strikes = _strikes(data, aid)
    assert len(strikes) >= 4
    at.session_state[f"review:table:{aid}:0"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    _ok(at)
    assert at.session_state[f"review:seek:{aid}"]["frame"] == strikes[2]["ic_frame"]  # the player jumps there
    player_key = f"player-{aid}"
    used0 = sum(1 for s in strikes if not s["rejected"])
    target = next(s for s in strikes if not s["rejected"])
    at.session_state[player_key] = {"action": "reject", "strike_id": target["id"], "frame": target["ic_frame"],
                                    "nonce": "n1"}
    at.run()
    _ok(at)
    after = {s["id"]: s for s in _strikes(data, aid)}
    assert after[target["id"]]["rejected"] and after[target["id"]]["edited"]
    assert sum(1 for s in after.values() if not s["rejected"]) == used0 - 1
    table = at.dataframe[0].value
    assert "rejected" in " ".join(table["status"]) and "edited" in " ".join(table["status"])

    moved = next(s for s in strikes if s["id"] != target["id"])
    at.session_state[player_key] = {"action": "move", "strike_id": moved["id"], "frame": moved["ic_frame"] + 2,
                                    "nonce": "n2"}
    at.run()
    _ok(at)
    assert {s["id"]: s for s in _strikes(data, aid)}[moved["id"]]["ic_frame"] == moved["ic_frame"] + 2
    taken = {s["ic_frame"] for s in strikes}
    free = next(f for f in range(strikes[1]["ic_frame"] + 3, 10_000) if f not in taken and f - 1 not in taken)
    at.session_state[player_key] = {"action": "add", "foot": "left", "frame": free, "nonce": "n3"}
    at.run()
    _ok(at)
    assert any(s["ic_frame"] == free and s["foot"] == "left" and s["edited"] for s in _strikes(data, aid))
    assert len(lib.edits(aid)) == 3

    at.button(key="undo").click().run()
    _ok(at)
    assert len(lib.edits(aid)) == 2 and not any(s["ic_frame"] == free for s in _strikes(data, aid))

    again = _app(aid)  # a new session: a reload or a restarted app
    _ok(again)
    table = again.dataframe[0].value
    assert (table["status"] != "").sum() == 2
    for _ in range(2):
        again.button(key="undo").click().run()
    assert lib.edits(aid) == [] and _strikes(data, aid) == strikes


def test_exports_are_written_and_playable(data_env):
    import av

    import zipfile

    from ui.app_export import EXPORTS
    from ui.app_jobs import export_key
    from ui.app_state import jobs

    data, aid = data_env
    at = _app(aid)
    for kind, (label, _, _) in EXPORTS.items():
        next(b for b in at.button if b.label == f"Make: {label}").click().run()
        _ok(at)
        job = jobs().get(export_key(aid, kind))
        assert job is not None, f"{kind}: no export started"
        job.join(300)  # exports run in the background; the page stays usable meanwhile
        assert job.status().state == "done", job.status().message
        at.run()
        _ok(at)
        assert not at.error, [e.value for e in at.error]
        assert any("made in" in c.value for c in at.caption), f"{kind}: no finished export shown"
    out = Library(data).exports_dir(aid)
    assert {"tables.zip", "annotated.mp4", "report.html", "strikes.mp4", "contacts.zip"} <= {p.name for p in out.iterdir()}
    stills = zipfile.ZipFile(out / "contacts.zip").namelist()
    n_contacts = len(_strikes(data, aid))
    assert sum(n.startswith("contacts/strike_") for n in stills) == n_contacts
    assert {"contact_sheet_left.png", "contact_sheet_right.png"} <= set(stills)
    with av.open(str(out / "annotated.mp4")) as c:
        s = c.streams.video[0]
        assert (s.codec_context.name, s.codec_context.pix_fmt) == ("h264", "yuv420p")
    assert {"strikes.csv", "summary.csv", "gaitscope_export.json"} <= set(zipfile.ZipFile(out / "tables.zip").namelist())
    assert any(v for v in at.get("video")), "the annotated clip plays in the page"

    stale = "made before your last correction"
    at.run()  # any later click reruns the page: the exports still show the strikes as they are
    _ok(at)
    assert not any(stale in c.value for c in at.caption)
    target = next(s for s in _strikes(data, aid) if not s["rejected"])
    at.session_state[f"player-{aid}"] = {"action": "reject", "strike_id": target["id"], "frame": target["ic_frame"],
                                         "nonce": "export-stale"}
    at.run()
    _ok(at)
    assert sum(stale in c.value for c in at.caption) == len(EXPORTS)  # every export now shows old strikes
    at.button(key="undo").click().run()
    _ok(at)
    assert not any(stale in c.value for c in at.caption) and Library(data).edits(aid) == []


def test_failed_analysis_offers_run_again(data_env):
    data, _ = data_env
    lib = Library(data)
    c, _ = lib.add_clip(io.BytesIO(b"x" * 100), "broken.mp4")
    rec = lib.start_analysis(c.id)
    lib.finish_analysis(rec.id, "failed", "broken.mp4: no runner found.")
    at = _app(rec.id)
    _ok(at)
    assert any("no runner found" in e.value for e in at.error)
    assert any(b.label == "Run again" for b in at.button)
    lib.delete_analysis(rec.id)


def test_damaged_library_is_reported_not_replaced(tmp_path, monkeypatch):
    (tmp_path / "library.sqlite3").write_bytes(b"garbage" * 100)
    monkeypatch.setenv("GAITSCOPE_DATA", str(tmp_path))
    at = _app()
    _ok(at)
    assert any("library cannot be opened" in e.value and "damaged" in e.value for e in at.error)
    assert (tmp_path / "library.sqlite3").read_bytes() == b"garbage" * 100


def test_too_short_clip_fails_with_a_message_naming_the_upload(data_env, tmp_path):
    data, first_id = data_env
    lib = Library(data)
    before = [a.id for a in lib.analyses()]
    short = excerpt(tmp_path / "short.mp4", 1.0, start_frame=30)
    at = _app()
    at.file_uploader[0].upload("Tiny clip.mp4", short.read_bytes(), "video/mp4").run()
    _ok(at)
    msg = " ".join(e.value for e in at.error)  # refused at upload, before the form
    assert "Tiny clip.mp4" in msg and "at least" in msg and "source." not in msg
    assert not any(b.label == "Analyse" for b in at.button)
    assert [a.id for a in lib.analyses()] == before
    assert lib.analysis(first_id).status == "done"
