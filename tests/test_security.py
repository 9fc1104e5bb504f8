"""Security: the app listens on localhost, an upload's name is never a path, names typed by users
are shown as typed (escaped) in the page and the report, nothing unpickles or evaluates user
data, decoding a crafted file is bounded in time and memory, uploads are capped.
"""

from __future__ import annotations

import ast
import hashlib
import io
import dataclasses
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from metrics.errors import VideoError
from tests import hostile_clips as hc
from tests.clipmaker import ROOT
from tests.live_app import free_port, running_app
from ui.library import Library
from vision.bounded import call_bounded, fork_available
from vision.video import MAX_FILE_BYTES, probe

APP = str(ROOT / "ui" / "app.py")
#: Markdown a user might type as a name: an image fetched from elsewhere, a link, LaTeX, a colour directive.
HOSTILE_TEXT = "![x](http://tracker.example/p.png) [click](http://evil.example) $x^2$ :red[alarm] **bold** <b>hi</b>"
#: Pieces that must never reach the page unescaped.
RAW_MARKUP = ("![x](", "](http", "$x^2$", ":red[", "**bold**")


# --------------------------------------------------------------- the launcher

def _launcher_args(tmp_path: Path, **env: str) -> list[str]:
    """The arguments ``./run app`` gives Streamlit (run against a stub Streamlit in a copy of the repo)."""
    fake = tmp_path / "repo"
    (fake / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "run", fake / "run")
    shutil.copy(ROOT / "pyproject.toml", fake / "pyproject.toml")
    stamp = hashlib.sha256((fake / "pyproject.toml").read_bytes() + (fake / "run").read_bytes()).hexdigest()[:16]
    (fake / ".venv" / f".gaitscope-app-{stamp}").touch()  # set-up done: no install
    stub = fake / ".venv" / "bin" / "streamlit"
    stub.write_text("#!/bin/sh\nprintf '%s\\n' \"$@\"\n")
    stub.chmod(0o755)
    base = {k: v for k, v in os.environ.items() if k != "GAITSCOPE_ADDRESS"}
    proc = subprocess.run(["bash", str(fake / "run"), "app"], capture_output=True, text=True, timeout=60,
                          env={**base, **env})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def _option(args: list[str], name: str) -> str:
    return args[len(args) - 1 - args[::-1].index(name) + 1]  # the last occurrence wins


def test_launcher_listens_on_localhost_unless_told_and_caps_uploads(tmp_path):
    args = _launcher_args(tmp_path)
    assert args[0] == "run" and args[1].endswith("ui/app.py")
    assert _option(args, "--server.address") == "localhost"
    assert _option(args, "--server.maxUploadSize") == "2048"  # MB, the same 2 GB the video reader accepts
    assert MAX_FILE_BYTES == 2048 * 1024**2
    told = _launcher_args(tmp_path / "told", GAITSCOPE_ADDRESS="0.0.0.0")
    assert _option(told, "--server.address") == "0.0.0.0"


def _listening(port: int) -> list[str]:
    """Local addresses of the sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for name, width in (("tcp", 8), ("tcp6", 32)):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            addr, p = f[1].split(":")
            if f[3] == "0A" and int(p, 16) == port:
                raw = bytes.fromhex(addr)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.append(socket.inet_ntop(socket.AF_INET if width == 8 else socket.AF_INET6, words))
    return found


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """The app as ``./run app`` starts it (its own arguments), on a free port, upload cap lowered to 1 MB."""
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc/net to see which address the server listens on")
    tmp = tmp_path_factory.mktemp("live_app")
    args = _launcher_args(tmp)
    args[1] = APP
    port = free_port()
    data = tmp / "data"
    with running_app([*args, "--server.maxUploadSize", "1"], port, data, tmp / "server.log") as url:
        yield url, port, data


@pytest.mark.slow
def test_app_listens_on_the_loopback_interface_only(live_app):
    _, port, _ = live_app
    addresses = _listening(port)
    assert addresses, "the server's listening socket was not found"
    assert all(a.startswith("127.") or a == "::1" for a in addresses), addresses


@pytest.mark.slow
@pytest.mark.browser
def test_too_large_upload_is_refused_with_a_clear_message(live_app, tmp_path):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is not installed (./run test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    url, _, data = live_app
    big = tmp_path / "big clip.mp4"
    big.write_bytes(os.urandom(1024 * 1024 + 300_000))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(url)
            page.locator("input[type=file]").wait_for(state="attached", timeout=90_000)
            page.locator("input[type=file]").set_input_files(str(big))
            page.get_by_text("or smaller").first.wait_for(timeout=30_000)
            text = page.locator("[data-testid=stFileUploader]").inner_text()
        finally:
            browser.close()
    assert "File must be 1.0MB or smaller" in text, text
    assert not any((data / "clips").glob("*")), "nothing of the refused upload is kept"


def test_file_over_the_cap_is_refused_before_reading(tmp_path):
    big = tmp_path / "huge.mp4"
    with open(big, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    t0 = time.monotonic()
    with pytest.raises(VideoError, match="the limit is 2 GB"):
        probe(big)
    assert time.monotonic() - t0 < 5


# --------------------------------------------------------------- names are not paths, and are escaped

def _app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=120)


def _shown(at) -> list[str]:
    """Every Markdown text the page shows (markdown, captions, errors, warnings, infos)."""
    return ([m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
            + [w.value for w in at.warning] + [i.value for i in at.info])


@pytest.mark.parametrize("name", ["../../escaped.mp4", "/tmp/absolute.mp4", "..\\..\\windows.mp4",
                                  "clip.mp4/../../x.mp4", "con.mp4", HOSTILE_TEXT + ".mp4"])
def test_uploaded_name_is_never_used_as_a_path(name, tmp_path, monkeypatch):
    data = tmp_path / "deep" / "data"
    monkeypatch.setenv("GAITSCOPE_DATA", str(data))
    before = {p for p in tmp_path.rglob("*")}
    clip = hc.small_clip(tmp_path / "src.mp4", 1.6, max_side=256)
    at = _app().run()
    at.file_uploader[0].upload(name, clip.read_bytes(), "video/mp4").run()
    assert not at.exception, [e.value for e in at.exception]
    made = {p for p in tmp_path.rglob("*")} - before - {clip}
    outside = [p for p in made if p not in (data, data.parent) and data not in p.parents]
    assert outside == [], "files were written outside the data folder"
    stored = [p for p in (data / "clips").rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].name == "source.mp4" and stored[0].parent.parent == data / "clips"
    rec = Library(data).clip(stored[0].parent.name)
    assert rec.display_name == name  # kept as text only
    assert not Path("/tmp/absolute.mp4").exists()


def test_names_typed_by_users_are_escaped_in_the_page(tmp_path, monkeypatch):
    monkeypatch.setenv("GAITSCOPE_DATA", str(tmp_path))
    lib = Library(tmp_path)
    c, _ = lib.add_clip(io.BytesIO(b"x" * 1000), HOSTILE_TEXT + ".mp4")
    a = lib.start_analysis(c.id, runner=HOSTILE_TEXT)
    lib.finish_analysis(a.id, "failed", f"{HOSTILE_TEXT}.mp4: no runner found.")
    at = _app()
    at.query_params["a"] = a.id
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = _shown(at)
    text = "\n".join(shown)
    assert "tracker" in text and "no runner found" in text, "the names and the message are shown"
    for raw in RAW_MARKUP:
        assert raw not in text, f"{raw!r} reaches the page unescaped"
    # the sidebar lists the analysis under the runner's (escaped) name
    assert any("tracker" in s and "\\!\\[x\\]" in s for s in shown)


def test_markdown_escape_shows_text_as_typed():
    from ui.app_text import md

    for text in (HOSTILE_TEXT, "Ann O'Neil", "C:\\clips\\run.mp4", "a_b*c`d`", "line one\nline two"):
        out = md(text)
        for raw in RAW_MARKUP + ("`d`", "a_b*"):
            assert raw not in out
        assert "\n" not in out
        unescaped = __import__("re").sub(r"\\(.)", r"\1", out)
        assert unescaped == " ".join(text.splitlines()), "every character survives"


def test_report_escapes_every_user_string(tmp_path):
    from tests.fault_kit import synthetic_source
    from ui.report import build_report_html

    clip = hc.small_clip(tmp_path / "clip.mp4", 2.0, max_side=256)
    src, _ = synthetic_source(clip)
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&'
    src = dataclasses.replace(src, warnings=src.warnings + (f"warning with {evil}",))
    page = build_report_html(src, runner_name=evil, clip_name=f"{evil}.mp4")
    assert "<script" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3, "runner, clip name and warning, escaped"


# --------------------------------------------------------------- no pickles, no evaluation of user data

_SOURCE_DIRS = ("metrics", "vision", "ui")
_FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
_FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "shelve", "marshal", "joblib", "yaml"}


def _sources() -> list[Path]:
    return [p for d in _SOURCE_DIRS for p in sorted((ROOT / d).rglob("*.py"))]


def test_no_pickles_no_eval_no_shell_in_the_code():
    problems = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                bad = {n.split(".")[0] for n in names if n} & _FORBIDDEN_MODULES
                if bad:
                    problems.append(f"{where}:{node.lineno} imports {bad}")
            if isinstance(node, ast.Call):
                fn = node.func
                owner = fn.value.id if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) else ""
                if isinstance(fn, ast.Name) and fn.id in _FORBIDDEN_CALLS:
                    problems.append(f"{where}:{node.lineno} calls {fn.id}()")
                if isinstance(fn, ast.Attribute) and owner == "os" and fn.attr in ("system", "popen"):
                    problems.append(f"{where}:{node.lineno} runs a shell (os.{fn.attr})")
                for kw in node.keywords:
                    if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                        problems.append(f"{where}:{node.lineno} subprocess with shell=...")
                    if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                        problems.append(f"{where}:{node.lineno} allow_pickle is not False")
    assert problems == [], "\n".join(problems)


class _Payload:
    """Unpickling this creates a file: proof that something unpickled user data."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (Path.touch, (Path(self.target),))


def test_a_crafted_pose_cache_is_not_unpickled(tmp_path, monkeypatch, capsys):
    """A pose_track.npz holding a pickled object array (say, in a shared results folder) is ignored."""
    from tests.synthetic import synth_run
    from ui.cli import main

    clip = hc.blank_clip(tmp_path / "clip.mp4", (304, 540), 60)
    out = tmp_path / "out"
    out.mkdir()
    proof = tmp_path / "PWNED"
    bomb = np.empty(1, dtype=object)
    bomb[0] = _Payload(str(proof))
    np.savez(out / "pose_track.npz", key=np.array(bomb), xy_px=bomb, visibility=bomb, meta=bomb, z=bomb,
             repeated=bomb)
    assert b"PWNED" in (out / "pose_track.npz").read_bytes()
    calls = []

    def pose(info, options, on_progress, on_frame=None):
        calls.append(1)
        return synth_run(duration_s=info.frames / info.fps, fps=info.fps, size=(304, 540), leg_px=190)[0]

    monkeypatch.setattr("ui.pipeline.run_pose", pose)
    assert main(["analyze", str(clip), "--out", str(out), "--model", "lite"]) == 0, capsys.readouterr().err
    assert not proof.exists(), "the crafted cache was unpickled"
    assert calls == [1], "the crafted cache was not taken for a pose track"
    from metrics.track import PoseTrack

    np.savez(tmp_path / "track.npz", xy_px=bomb, visibility=bomb, t_s=bomb)
    with pytest.raises((ValueError, KeyError, OSError)):
        PoseTrack.load(tmp_path / "track.npz")
    assert not proof.exists()


# --------------------------------------------------------------- decode bounds

def _sleep_forever(_: str) -> dict:
    time.sleep(3600)
    return {}


def _allocate(n_gb: int) -> dict:
    blocks = [np.ones(1024**3 // 8) for _ in range(n_gb)]
    return {"n": len(blocks)}


def _crash(_: str) -> dict:
    import ctypes

    ctypes.string_at(0)
    return {}


def _answer(x: int) -> dict:
    return {"x": x, "pid": os.getpid()}


@pytest.mark.skipif(not fork_available(), reason="the bounded child needs fork (Linux)")
def test_bounded_call_is_stopped_when_it_hangs_eats_memory_or_crashes():
    t0 = time.monotonic()
    with pytest.raises(VideoError, match="longer than 1 s"):
        call_bounded(_sleep_forever, ("x",), timeout_s=1.0, what="slow.mp4")
    assert time.monotonic() - t0 < 5
    with pytest.raises(VideoError, match="memory"):
        call_bounded(_allocate, (6,), timeout_s=60, what="big.mp4", extra_memory_bytes=512 * 1024**2)
    with pytest.raises(VideoError, match="decoder failed"):
        call_bounded(_crash, ("x",), timeout_s=30, what="bad.mp4")
    r = call_bounded(_answer, (7,), timeout_s=30, what="ok.mp4")
    assert r["x"] == 7 and r["pid"] != os.getpid(), "the call ran in a child"


@pytest.mark.skipif(not fork_available(), reason="the bounded child needs fork (Linux)")
def test_probe_in_a_bounded_child_costs_little(sample, report_figure):
    from vision.video import _probe_json, PROBE_TIMEOUT_S

    probe(sample)  # warm the page cache
    t0 = time.monotonic()
    for _ in range(3):
        info = probe(sample)
    bounded_s = (time.monotonic() - t0) / 3
    t0 = time.monotonic()
    for _ in range(3):
        direct = _probe_json(str(sample), None, PROBE_TIMEOUT_S)
    direct_s = (time.monotonic() - t0) / 3
    assert info.frames == direct["frames"] == 360 and list(info.pts) == list(direct["pts"])
    assert bounded_s - direct_s < 0.5, f"the bounded probe costs {bounded_s - direct_s:.3f} s more"
    report_figure(f"probe of the sample: {direct_s * 1000:.0f} ms in process, {bounded_s * 1000:.0f} ms bounded")


def test_crafted_index_claiming_huge_tables_is_refused_cleanly(tmp_path):
    """An MP4 whose sample-size table claims 2^31 entries: a clean error, quickly, no memory blow-up."""
    clip = hc.small_clip(tmp_path / "ok.mp4", 1.6, max_side=256)
    raw = bytearray(clip.read_bytes())
    pos = raw.find(b"stsz")
    assert pos > 0
    raw[pos + 12:pos + 16] = (2**31 - 1).to_bytes(4, "big")  # sample count
    bad = tmp_path / "crafted.mp4"
    bad.write_bytes(bytes(raw))
    t0 = time.monotonic()
    try:
        info = probe(bad)
    except VideoError as exc:
        assert str(exc).strip() and "\n" not in str(exc)
    else:
        assert info.frames < 1000
    assert time.monotonic() - t0 < 30
