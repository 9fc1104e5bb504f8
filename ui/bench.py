"""Speed table: decode, pose alone, the naive loop, analyze, export and their peak memory.

    gaitscope bench [VIDEO] [--model full] [--repeats 3] [--workers N] [--only decode,pose,...]
    gaitscope bench --make-slowmo OUT.mp4     10 s of 240 fps 720p slow motion made from the sample
    gaitscope bench --make-long OUT.mp4       60 s of 60 fps 1080p, for the memory bound

Every stage runs in a fresh process, on the same clip and model, and each round runs all
stages back to back, so ratios measured within one round share the machine's load of the
moment. The table gives medians over the rounds; the ratios are medians of per-round ratios.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from metrics.errors import InputError
from ui.bench_stages import StageResult, measure, median

__all__ = ["add_arguments", "run", "ROWS"]

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "zzzhushi_male_side.mp4"
#: Row keys in table order and their labels.
ROWS = {
    "decode": "decode only (PyAV -> RGB, pose input size)",
    "pose": "pose only, decoded frames, 1 core pinned",
    "naive": "naive loop (OpenCV read + MediaPipe, 1 process)",
    "naive2": "naive loops side by side, 1 per core",
    "analyze": "analyze end to end ({workers} workers)",
    "analyze1": "analyze end to end (1 process)",
    "export": "annotated clip export (H.264)",
    "app": "app: first results (the player follows)",
    "pass1": "pose pass alone, 1 worker",
    "threads": "pose pass alone, {workers} worker threads",
    "processes": "pose pass alone, {workers} worker processes",
}
DEFAULT_ROWS = ("decode", "pose", "naive", "naive2", "analyze", "export")
#: Target from the speed issue: 1.8x the naive loop, "within 90 % of the two-core limit" (2x naive).
TARGET_VS_NAIVE = 1.8


def add_arguments(p) -> None:
    p.add_argument("video", type=Path, nargs="?", default=SAMPLE, help="clip to time (default: the sample clip)")
    p.add_argument("--model", choices=("lite", "full", "heavy"), default="full")
    p.add_argument("--repeats", type=int, default=3, help="rounds of every stage (medians are reported)")
    p.add_argument("--workers", type=int, default=None, help="pose workers for analyze (default: one per core)")
    p.add_argument("--pose-frames", type=int, default=150, help="frames for the pose-only row")
    p.add_argument("--only", default=None,
                   help=f"comma-separated rows among {','.join(ROWS)} (default: {','.join(DEFAULT_ROWS)}, "
                        "plus analyze1 once for the consistency check)")
    p.add_argument("--no-check", action="store_true",
                   help="skip the one-process analyze and the parallel == one-process comparison")
    p.add_argument("--json", type=Path, default=None, help="also write every measurement to this file")
    p.add_argument("--make-slowmo", type=Path, default=None, metavar="OUT.mp4",
                   help="write 10 s of 240 fps 720p slow motion made from VIDEO, then stop")
    p.add_argument("--make-long", type=Path, default=None, metavar="OUT.mp4",
                   help="write 60 s of 60 fps 1080p made from VIDEO, then stop")


def run(args) -> int:
    if args.make_slowmo or args.make_long:
        return _make(args)
    rows = _rows(args.only)
    if args.repeats < 1:
        raise InputError("--repeats must be at least 1")
    from vision.parallel import default_workers
    from vision.pose import model_path
    from vision.video import probe

    info = probe(args.video)
    model_path(args.model)
    cores = default_workers()
    workers = args.workers or cores
    print(_header(args, info, cores, workers), flush=True)
    check = not args.no_check and "analyze" in rows
    tmp = Path(tempfile.mkdtemp(prefix="gaitscope-bench-"))
    results: dict[str, list[StageResult]] = {k: [] for k in rows}
    once: dict[str, StageResult] = {}
    try:
        for r in range(args.repeats):
            for key in rows:
                res = _stage(key, args, tmp / f"run{r}", workers)
                results[key].append(res)
                print(f"  round {r + 1}/{args.repeats}: {key:8s} {_brief(res)}", file=sys.stderr, flush=True)
            if check and r == 0:
                once["analyze1"] = _stage("analyze1", args, tmp / "one", workers)
                print(f"  once: analyze1 {_brief(once['analyze1'])}", file=sys.stderr, flush=True)
        consistency = _compare(tmp / "run0", tmp / "one") if check else None
        load_after = os.getloadavg()
        print(_table(results, once, workers, info))
        print(_ratios({**results, **{k: [v] for k, v in once.items() if k not in results}}, cores, info))
        if consistency:
            print(consistency)
        print(f"load average at the end: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
        if args.json:
            _write_json(args.json, args, info, cores, workers, results, once, consistency)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


# ----------------------------------------------------------------------------- helpers

def _rows(only: str | None) -> list[str]:
    if not only:
        return list(DEFAULT_ROWS)
    keys = [k.strip() for k in only.split(",") if k.strip()]
    bad = [k for k in keys if k not in ROWS]
    if bad:
        raise InputError(f"unknown bench rows {', '.join(bad)}; choose among {', '.join(ROWS)}")
    return keys


def _stage(key: str, args, out: Path, workers: int) -> StageResult:
    out.mkdir(parents=True, exist_ok=True)
    kw = dict(video=str(args.video), model=args.model, out=str(out), pose_frames=args.pose_frames)
    if key in ("analyze1", "pass1"):
        kw["workers"] = 1
    elif key in ("analyze", "app", "threads", "processes"):
        kw["workers"] = workers
    if key == "processes":
        kw["backend"] = "process"
    if key == "export" and not (out / "pose_track.npz").is_file():
        measure("analyze", **{**kw, "workers": workers})  # the export needs an analysis to draw
    return measure(key, **kw)


def _brief(r: StageResult) -> str:
    if r.extra.get("error"):
        return f"FAILED: {r.extra['error']}"
    return f"{r.frames} frames in {r.wall_s:.2f} s = {r.fps:.1f} fps, cores busy {r.cores_busy:.2f}, peak {r.peak_rss_mb:.0f} MB"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return cpu


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("mediapipe", "av", "opencv-python-headless", "numpy"):
        try:
            out.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            continue
    return ", ".join(out)


def _header(args, info, cores: int, workers: int) -> str:
    from vision.pose import model_path, pose_input_side

    size_mb = args.video.stat().st_size / 1e6
    rate = size_mb * 8 / info.duration_s if info.duration_s > 0 else float("nan")
    la = os.getloadavg()
    mp = model_path(args.model)
    return "\n".join([
        f"gaitscope bench: {args.video.name}  {info.width}x{info.height}, {info.fps:.2f} fps, {info.frames} frames, "
        f"{info.duration_s:.1f} s, {info.codec}, {rate:.1f} Mbit/s",
        f"model: {args.model} ({mp.name}, {mp.stat().st_size / 1e6:.1f} MB); pose input longer side "
        f"{pose_input_side(info) or max(info.width, info.height)} px; analyze uses {workers} worker(s)",
        f"machine: {cores} cores available, {os.cpu_count()} online ({_machine()}); {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; {_versions()}",
        f"load average at the start: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}; {args.repeats} round(s), medians shown",
    ])


def _table(results: dict, once: dict, workers: int, info) -> str:
    head = f"{'stage':50s} {'frames':>6s} {'fps':>7s} {'ms/frame':>8s} {'wall s':>7s} {'cores':>5s} {'peak MB':>7s}"
    lines = ["", head, "-" * len(head)]
    for key, runs in list(results.items()) + [(k, [v]) for k, v in once.items()]:
        label = ROWS[key].format(workers=workers)
        ok = [r for r in runs if not r.extra.get("error")]
        if not ok:
            lines.append(f"{label:50s} failed: {runs[0].extra.get('error')}")
            continue
        fps = median(r.fps for r in ok)
        lines.append(
            f"{label:50s} {ok[0].frames:6d} {fps:7.1f} {1000 / fps:8.1f} {median(r.wall_s for r in ok):7.2f} "
            f"{median(r.cores_busy for r in ok):5.2f} {max(r.peak_rss_mb for r in ok):7.0f}"
        )
    lines.append("cores = CPU seconds / wall seconds of the stage (its worker processes included); "
                 "peak MB = largest resident memory of the stage's whole process tree (max over rounds).")
    return "\n".join(lines)


def _per_round(results: dict, num: str, den: str, scale: float = 1.0) -> list[float]:
    out = []
    for a, b in zip(results.get(num, []), results.get(den, [])):
        if a.frames and b.frames:
            out.append(a.fps / (scale * b.fps))
    return out


def _ratios(results: dict, cores: int, info) -> str:
    lines = ["", "ratios (median of per-round ratios, each from stages run back to back):"]

    def line(label: str, values: list[float], target: str) -> None:
        if values:
            lines.append(f"  {label:44s} {median(values):6.2f}   (rounds: {', '.join(f'{v:.2f}' for v in values)}; "
                         f"{target})")

    line("analyze / naive", _per_round(results, "analyze", "naive"), f"target >= {TARGET_VS_NAIVE}")
    line(f"analyze / ({cores} cores x pose-only)", _per_round(results, "analyze", "pose", cores),
         "1.0 = the model alone on every core, nothing else, no contention")
    line("naive / pose-only", _per_round(results, "naive", "pose"), "1 core of model time each frame = 1.0")
    line("naive side by side / naive", _per_round(results, "naive2", "naive"),
         f"the {cores}-core ceiling for the naive loop's work; ideal {cores}")
    line("analyze / naive side by side", _per_round(results, "analyze", "naive2"),
         "share of that ceiling analyze reaches; 1.0 = no overhead at all")
    line("analyze / analyze in 1 process", _per_round(results, "analyze", "analyze1"),
         f"what the other cores add, round 1 unless analyze1 is a row; ideal {cores}")
    line("pose pass: threads / 1 worker", _per_round(results, "threads", "pass1"), f"ideal {cores}")
    line("pose pass: processes / 1 worker", _per_round(results, "processes", "pass1"), f"ideal {cores}")
    exp = [r for r in results.get("export", []) if r.frames]
    if exp and info.duration_s > 0:
        rt = [info.duration_s / r.wall_s for r in exp]
        line("export speed / real time", rt, "target >= 1")
    app = [r for r in results.get("app", []) if r.frames and "player_ready_s" in r.extra]
    if app:
        lines.append(f"  {'app: first results / player ready':44s} {median(r.wall_s for r in app):6.1f} s / "
                     f"{median(r.extra['player_ready_s'] for r in app):.1f} s   (target: first results <= 15 s)")
    ana = [r for r in results.get("analyze", []) if r.frames]
    if ana:
        lines.append(f"  {'analyze wall time':44s} {median(r.wall_s for r in ana):6.1f} s for "
                     f"{info.frames} frames ({info.duration_s:.1f} s of clip)")
    return "\n".join(lines)


def _compare(par_dir: Path, one_dir: Path) -> str | None:
    """Parallel vs one-process analysis of the same clip: landmarks, IC frames, angles."""
    try:
        with np.load(par_dir / "pose_track.npz") as a, np.load(one_dir / "pose_track.npz") as b:
            xa, xb = a["xy_px"].astype(float), b["xy_px"].astype(float)
            seams = json.loads(str(a["meta"])).get("pose_segments", [])[1:]
        sa = json.loads((par_dir / "analysis.json").read_text()).get("strikes", [])
        sb = json.loads((one_dir / "analysis.json").read_text()).get("strikes", [])
    except (OSError, KeyError, ValueError) as exc:
        return f"consistency check skipped: {exc}"
    d = np.linalg.norm(xa - xb, axis=2)
    same_nan = bool((np.isnan(xa) == np.isnan(xb)).all())
    ic_a = [(s["foot"], s["ic_frame"]) for s in sa]
    ic_b = [(s["foot"], s["ic_frame"]) for s in sb]
    ang = []
    if ic_a == ic_b:
        for x, y in zip(sa, sb):
            for k, v in x.items():
                if k.endswith("_deg") and isinstance(v, (int, float)) and isinstance(y.get(k), (int, float)):
                    ang.append(abs(v - y[k]))
    return "\n".join([
        "",
        f"parallel vs one process (seams at frames {seams}): landmark difference max "
        f"{np.nanmax(d) if np.isfinite(d).any() else 0:.3f} px, mean {np.nanmean(d) if np.isfinite(d).any() else 0:.3f} px; "
        f"missing frames {'identical' if same_nan else 'DIFFER'}",
        f"  IC frames {'identical' if ic_a == ic_b else 'DIFFER'} ({len(ic_a)} vs {len(ic_b)} strikes); "
        f"largest angle difference {max(ang) if ang else 0:.3f} deg over {len(ang)} angle values",
    ])


def _write_json(path: Path, args, info, cores, workers, results, once, consistency) -> None:
    def row(r: StageResult) -> dict:
        return {"frames": r.frames, "wall_s": r.wall_s, "cpu_s": r.cpu_s, "fps": r.fps, "cores_busy": r.cores_busy,
                "peak_rss_mb": r.peak_rss_mb, **r.extra}

    doc = {
        "video": str(args.video), "frames": info.frames, "size": [info.width, info.height], "fps": info.fps,
        "model": args.model, "cores": cores, "workers": workers, "cpu": _machine(),
        "rounds": {k: [row(r) for r in v] for k, v in results.items()},
        "once": {k: row(v) for k, v in once.items()}, "consistency": consistency,
        "load_average_end": list(os.getloadavg()),
    }
    path.write_text(json.dumps(doc, indent=1, default=float))


def _make(args) -> int:
    from ui.bench_clips import LONG_1080P, SLOWMO, make_clip

    for out, spec in ((args.make_slowmo, SLOWMO), (args.make_long, LONG_1080P)):
        if out is None:
            continue
        t0 = time.monotonic()
        make_clip(args.video, out, spec)
        print(f"wrote {out}: {spec.frames} frames, {spec.fps:g} fps, {spec.seconds:g} s, shorter side "
              f"{spec.short_side_px} px, made from {args.video.name} in {time.monotonic() - t0:.0f} s")
    return 0
