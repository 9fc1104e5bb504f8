"""The ``gaitscope`` command line.

    gaitscope analyze VIDEO [--out DIR] [--model lite|full|heavy] [--capture-fps N] [--height-cm H] [--no-cache]
    gaitscope evaluate [--labels DIR]      accuracy against hand labels
    gaitscope bench VIDEO                  speed table

Exit codes: 0 success, 2 bad input (one line on stderr saying what to do), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
import tempfile
import traceback
import time
from pathlib import Path

from metrics.errors import GaitscopeError

__all__ = ["main", "build_parser"]

#: Extra sub-commands: name -> module with ``add_arguments(parser)`` and ``run(args) -> int``.
_PLUGINS = {"evaluate": "ui.evaluate", "bench": "ui.bench", "export": "ui.export_all", "compare": "ui.compare_cli"}


class _Bar:
    """A one-line progress bar on a terminal; silent when stderr is not a terminal."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.t0 = time.monotonic()
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.tty or stage != "pose" or total <= 0:
            return
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        el = now - self.t0
        fps = done / el if el > 0 else 0.0
        left = (total - done) / fps if fps > 0 else 0.0
        n = int(30 * done / total)
        self.stream.write(f"\r[{'#' * n}{'.' * (30 - n)}] {done}/{total} frames  {fps:5.1f} fps  {left:4.0f} s left ")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return v


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line on stderr and exit code 2, like every other bad input."""

    def error(self, message: str):
        self.exit(2, f"gaitscope: error: {message} (see gaitscope {self.prog.split()[-1]} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gaitscope", description="Running-gait analysis from a side-on video.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    a = sub.add_parser("analyze", help="analyse a clip and write analysis.json, strikes.csv, keypoints.csv")
    a.add_argument("video", type=Path)
    a.add_argument("--out", type=Path, default=None, help="output folder (default: VIDEO's name + '_gaitscope')")
    a.add_argument("--model", choices=("lite", "full", "heavy"), default="full")
    a.add_argument("--capture-fps", type=_positive, default=None,
                   help="frame rate the clip was filmed at, for slow motion (e.g. 240)")
    a.add_argument("--height-cm", type=_positive, default=None, help="runner's height, to report centimetres")
    a.add_argument("--no-cache", action="store_true", help="run the pose model again even if a cached track exists")
    a.add_argument("--workers", type=int, default=None, help="pose worker processes (default: one per core)")
    for name, module in _PLUGINS.items():
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        sp = sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0] if mod.__doc__ else None)
        mod.add_arguments(sp)
        sp.set_defaults(_plugin=mod)
    return p


def _analyze(args) -> int:
    from ui.pipeline import AnalyzeOptions, analyze

    out = args.out or args.video.with_name(args.video.stem + "_gaitscope")
    opts = AnalyzeOptions(model=args.model, capture_fps=args.capture_fps, runner_height_cm=args.height_cm,
                          use_cache=not args.no_cache, workers=args.workers)
    t0 = time.monotonic()
    res = analyze(args.video, out, opts, on_progress=_Bar())
    dt = time.monotonic() - t0
    s = res.document["summary"]
    n = len([x for x in res.gait.strikes if not x.get("rejected")])
    cad = s.get("cadence_spm")
    print(f"{args.video.name}: {res.info.frames} frames in {dt:.1f} s"
          f"{' (pose from cache)' if res.pose_from_cache else ''}; runner faces {res.gait.runner['faces']}; "
          f"{n} strikes; cadence {f'{cad:.1f}' if cad is not None else '-'} spm")
    for w in res.warnings:
        print(f"warning: {w}")
    print(f"wrote {out / 'analysis.json'}, strikes.csv, keypoints.csv")
    return 0


def silence_native_logs() -> None:
    """Send what MediaPipe/LiteRT's C++ code logs on file descriptor 2 to a log file.

    Python's ``sys.stderr`` keeps the terminal, so progress and error lines still show;
    worker processes inherit the redirected descriptor.
    """
    try:
        log = open(Path(tempfile.gettempdir()) / "gaitscope-native.log", "ab", buffering=0)
        keep = os.dup(2)
        os.dup2(log.fileno(), 2)
        sys.stderr = io.TextIOWrapper(os.fdopen(keep, "wb", buffering=0), write_through=True)
    except OSError:
        pass  # no redirect possible: native logs stay on stderr


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is None:  # a real command line, not a call from Python
        silence_native_logs()
    try:
        if args.command == "analyze":
            return _analyze(args)
        return int(args._plugin.run(args) or 0)
    except GaitscopeError as exc:
        print(f"gaitscope: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gaitscope: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("gaitscope: error: out of memory; try a shorter or smaller clip, or --model lite", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug: one line for the user, the traceback to a file
        log = Path(tempfile.gettempdir()) / "gaitscope-error.log"
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} gaitscope {' '.join(argv or sys.argv[1:])}\n")
            f.write(traceback.format_exc())
        print(f"gaitscope: internal error ({exc.__class__.__name__}: {exc}); details in {log}. "
              "Please report it with that file.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
