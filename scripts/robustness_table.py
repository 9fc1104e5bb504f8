"""Run every hostile input and fault case and print the table of what gaitscope says (Markdown).

    .venv/bin/python scripts/robustness_table.py                      print the table
    .venv/bin/python scripts/robustness_table.py --write docs/robustness.md

The inputs are made on the spot (``tests/hostile_clips.py``, ``tests/hostile_cases.py``) and go
through the real command line (``ui.cli.main``, fast model, one process); the messages in the
table are the ones printed. Development clips in ``../shared`` are used when present. The
fault rows reproduce each fault in this process (a full disk needs ``unshare`` or root).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from metrics.errors import GaitscopeError  # noqa: E402
from tests import hostile_clips as hc  # noqa: E402
from tests.conftest import shared_dir  # noqa: E402
from tests.hostile_cases import CASES, SHARED_CASES, cli_args  # noqa: E402


def _cell(text: str, tmp: str = "") -> str:
    text = " ".join(str(text).split())
    if tmp:
        text = text.replace(tmp, "<tmp>")
    return text.replace("|", "\\|").replace("`", "\\`")


def _run_cli(args: list[str]) -> tuple[int, str, list[str]]:
    from ui.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    warnings = [ln[len("warning: "):] for ln in out.getvalue().splitlines() if ln.startswith("warning: ")]
    return code, err.getvalue().strip(), warnings


def _said(code: int, err: str, warnings: list[str], words: tuple[str, ...]) -> str:
    if code != 0:
        return err.removeprefix("gaitscope: error: ")
    named = [w for w in warnings if any(x in w.lower() for x in words)] if words else []
    if named:
        return " / ".join(named)
    return "analysed" + (f" ({len(warnings)} other warnings)" if warnings else "")


def input_rows(tmp: Path) -> list[tuple[str, str, str]]:
    rows = []
    for case in CASES:
        folder = tmp / case.id
        folder.mkdir()
        video = case.make(folder)
        code, err, warnings = _run_cli(cli_args(video, folder / "out"))
        rows.append((case.what, _said(code, err, warnings, case.words), str(code)))
        print(f"  {case.id}: exit {code}", file=sys.stderr)
    rows.extend(_synthetic_rows(tmp))
    rows.append(_long_clip_row(tmp))
    rows.append(_name_row(tmp))
    shared = shared_dir()
    for case in SHARED_CASES if shared else ():
        folder = tmp / case.id
        folder.mkdir()
        video = hc.shared_excerpt(shared / "clips" / case.clip, folder / f"{case.id}.mp4", case.start_s,
                                  case.seconds, max_side=480)
        code, err, warnings = _run_cli(cli_args(video, folder / "out"))
        said = _said(code, err, warnings, case.words)
        if code == 0 and not any(any(x in w.lower() for x in case.words) for w in warnings):
            said = f"(no warning about it; weak) {said}"
        rows.append((case.what, said, str(code)))
        print(f"  {case.id}: exit {code}", file=sys.stderr)
    return rows


def _synthetic_rows(tmp: Path) -> list[tuple[str, str, str]]:
    import ui.pipeline as pipeline
    from tests.synthetic import synth_run
    from tests.test_hostile_inputs import _front_view

    rows = []
    real = pipeline.run_pose
    for what, kind, words in (("front view (synthetic track)", "front", ("side view",)),
                              ("walking, no flight phase (synthetic track)", "walk", ("no flight",))):
        track, _ = synth_run(duration_s=6.0, **({"contact_share": 1.25, "cadence_spm": 110} if kind == "walk" else {}))
        track = _front_view(track) if kind == "front" else track
        video = hc.blank_clip(tmp / f"{kind}.mp4", track.size, len(track))
        pipeline.run_pose = lambda info, options, on_progress, on_frame=None, t=track: t
        try:
            code, err, warnings = _run_cli(cli_args(video, tmp / f"{kind}_out"))
        finally:
            pipeline.run_pose = real
        said = _said(code, err, warnings, words)
        if kind == "front":
            doc = json.loads((tmp / f"{kind}_out" / "analysis.json").read_text())
            said += f" (shin angles withheld: {all(s['shin_angle_deg'] is None for s in doc['strikes'])})"
        rows.append((what, said, str(code)))
    return rows


def _long_clip_row(tmp: Path) -> tuple[str, str, str]:
    from metrics.errors import Cancelled
    from ui.pipeline import AnalyzeOptions, analyze

    clip = hc.long_static_clip(tmp / "ten minutes.mp4")
    seen = []

    def progress(stage, done, total):
        seen.append((stage, done, total))
        return not (stage == "pose" and done >= 30)

    t0 = time.monotonic()
    try:
        analyze(clip, tmp / "long_out", AnalyzeOptions(model="lite", workers=1), on_progress=progress)
        said = "finished (not cancelled?)"
    except Cancelled as exc:
        stage, done, total = seen[-1]
        said = (f"progress reported as {done}/{total} frames; cancelled from the progress callback after "
                f"{time.monotonic() - t0:.1f} s: '{exc}'; no files left")
    return ("10-minute clip, 160x120 (18000 frames)", said, "app: Cancel / CLI: Ctrl-C = 130")


def _name_row(tmp: Path) -> tuple[str, str, str]:
    folder = tmp / "names"
    folder.mkdir()
    video = hc.small_clip(folder / hc.HOSTILE_NAME, 2.0, max_side=426)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "ui.cli", *cli_args(video, folder / "out")], capture_output=True,
                          text=True, cwd=folder, env=env, timeout=600)
    first = proc.stdout.splitlines()[0] if proc.stdout else proc.stderr.strip()
    pwned = (folder / "PWNED").exists()
    return (f"file name: {hc.HOSTILE_NAME}", f"{first} (shell characters ran nothing: {not pwned})",
            str(proc.returncode))


def fault_rows(tmp: Path) -> list[tuple[str, str, str]]:
    from tests.fault_kit import run_child, small_disk_command
    from ui.library import Library, LibraryError

    rows = []
    lib = Library(tmp / "lib")
    c, _ = lib.add_clip(io.BytesIO(b"clip" * 1000), "run.mp4")
    a = lib.start_analysis(c.id)
    with sqlite3.connect(lib.db_path) as db:
        db.execute("UPDATE analyses SET owner_pid = 999999999 WHERE id = ?", (a.id,))
    Library(tmp / "lib")
    rows.append(("app killed mid-analysis, started again", f"analysis marked failed: '{lib.analysis(a.id).message}' "
                 "(Run again offered; results only ever written under temporary names, then renamed)", "-"))
    again, new = lib.add_clip(io.BytesIO(b"clip" * 1000), "same clip, new name.mov")
    rows.append(("same clip uploaded twice", f"recognised by SHA-256: same clip id ({again.id == c.id}), "
                 f"new = {new}; the page says 'This clip is already in your library'", "-"))
    with sqlite3.connect(lib.db_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = lib.db_path.read_bytes()
    lib.db_path.write_bytes(raw[: len(raw) // 3])
    try:
        Library(tmp / "lib")
        said = "(opened?)"
    except LibraryError as exc:
        said = str(exc)
    rows.append(("damaged library index (cut to a third)", said, "app: page error"))
    disk = tmp / "disk"
    disk.mkdir()
    prefix = small_disk_command(disk, 64)
    clip = hc.small_clip(tmp / "clip.mp4", 3.0, max_side=426)
    if prefix:
        proc = run_child("""
import json, sys
from pathlib import Path
from tests.fault_kit import synthetic_source
from ui.export import export_annotated_clip
from metrics.errors import GaitscopeError
src, _ = synthetic_source(Path(sys.argv[1]))
try:
    export_annotated_clip(src, Path(sys.argv[2]) / "annotated.mp4"); msg = "written"
except GaitscopeError as exc:
    msg = str(exc)
print(json.dumps({"msg": msg, "left": [p.name for p in Path(sys.argv[2]).iterdir()]}))
""", str(clip), str(disk), prefix=prefix)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append(("disk fills during an export", f"{r['msg']} (files left on the disk: {r['left'] or 'none'})",
                     "app: page error"))
    else:
        rows.append(("disk fills during an export", "(not reproduced here: no unshare/root)", "-"))
    return rows


def markdown(inputs: list[tuple[str, str, str]], faults: list[tuple[str, str, str]], tmp: str = "") -> str:
    lines = ["| input | what gaitscope says | exit code |", "|---|---|---|"]
    lines += [f"| {_cell(a, tmp)} | {_cell(b, tmp)} | {_cell(c, tmp)} |" for a, b, c in inputs]
    lines += ["", "| fault | what happens | |", "|---|---|---|"]
    lines += [f"| {_cell(a, tmp)} | {_cell(b, tmp)} | {_cell(c, tmp)} |" for a, b, c in faults]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", type=Path, help="replace the generated part of this Markdown file")
    args = ap.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    with tempfile.TemporaryDirectory(prefix="gaitscope-robustness-") as d:
        tmp = Path(d)
        (tmp / "in").mkdir()
        (tmp / "faults").mkdir()
        table = markdown(input_rows(tmp / "in"), fault_rows(tmp / "faults"), str(tmp))
    if args.write:
        begin, end = "<!-- table: generated by scripts/robustness_table.py -->", "<!-- end of table -->"
        text = args.write.read_text(encoding="utf-8")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        args.write.write_text(f"{head}{begin}\n{table}{end}{tail}", encoding="utf-8")
    else:
        sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except GaitscopeError as exc:
        print(f"robustness_table: {exc}", file=sys.stderr)
        sys.exit(2)
