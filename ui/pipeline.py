"""``analyze(video, out_dir, options)``: the one pipeline behind the command line and the app.

Clip -> probe -> pose track (cached beside the results) -> gait measures -> files.
No printing and no Streamlit here: progress goes through ``on_progress``.
"""

from __future__ import annotations

import errno
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from metrics import GaitOptions, GaitResult, analyze_gait
from metrics.errors import GaitscopeError, InputError, NoPersonError, VideoError
from metrics.track import PoseTrack
from ui.results import write_results
from vision.scene import SceneSampler, scene_check
from vision.video import VideoInfo, probe

__all__ = ["AnalyzeOptions", "Analysis", "analyze", "file_sha256", "check_clip_length", "POSE_CACHE_NAME"]

#: Bump when a change to pose estimation makes old cached tracks stale.
POSE_CACHE_VERSION = 4
POSE_CACHE_NAME = "pose_track.npz"
#: Shortest clip worth analysing: two strides at a slow cadence.
MIN_DURATION_S = 1.5
#: A runner must be found in at least this share of frames.
MIN_PERSON_SHARE = 0.3
#: Pictures with a shorter side than this give coarse landmarks (a warning).
SMALL_PICTURE_PX = 240

ProgressFn = Callable[[str, int, int], bool | None]


@dataclass(frozen=True)
class AnalyzeOptions:
    model: str = "full"
    capture_fps: float | None = None
    runner_height_cm: float | None = None
    use_cache: bool = True
    workers: int | None = None  # None: one per core
    gait: GaitOptions = field(default_factory=GaitOptions)


@dataclass
class Analysis:
    info: VideoInfo
    track_raw: PoseTrack
    gait: GaitResult
    out_dir: Path
    pose_from_cache: bool
    warnings: list[str]
    document: dict  # what analysis.json holds


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _cache_key(sha: str, model: str) -> str:
    return f"{sha}:{model}:v{POSE_CACHE_VERSION}"


def _load_cached(path: Path, key: str, info: VideoInfo) -> PoseTrack | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key or z["xy_px"].shape[0] != info.frames:
                return None
            xy, vis = z["xy_px"].astype(float), z["visibility"].astype(float)
            depth, repeated = z["z"].astype(float), z["repeated"].astype(bool)
            meta = json.loads(str(z["meta"]))
    except (OSError, KeyError, ValueError):
        return None  # unreadable cache: recompute
    # times come from the probe, so a new capture rate needs no new pose run
    return PoseTrack(xy, vis, info.times_s(), (info.width, info.height), meta, z=depth, repeated=repeated)


def _save_cache(path: Path, key: str, track: PoseTrack) -> None:
    tmp = path.with_name(path.name + ".part.npz")
    try:
        np.savez_compressed(
            tmp, key=np.array(key), xy_px=track.xy_px.astype(np.float32),
            visibility=track.visibility.astype(np.float32), meta=np.array(json.dumps(track.meta)),
            z=track.z.astype(np.float32), repeated=track.repeated,
        )
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _write_error(path.parent, exc) from None


def _write_error(folder: Path, exc: OSError) -> GaitscopeError:
    """A full disk or an unwritable folder, said plainly; the temporary files are already removed."""
    if exc.errno == errno.ENOSPC:
        return GaitscopeError(f"the disk is full while writing the results in {folder}; free some space and "
                              "run the analysis again.")
    return GaitscopeError(f"could not write the results in {folder} ({exc.strerror or exc}); choose another "
                          "output folder.")


def _remove_temporaries(folder: Path) -> None:
    for tmp in folder.glob(".*.part"):
        tmp.unlink(missing_ok=True)


def run_pose(info: VideoInfo, options: AnalyzeOptions, on_progress: ProgressFn | None,
             on_frame: Callable | None = None) -> PoseTrack:
    """Pose over the whole clip: parallel chunks when available, else one process.
    ``on_frame(frame)`` sees every decoded frame (from the worker threads)."""
    def progress(done: int, total: int):
        return on_progress("pose", done, total) if on_progress else None

    try:
        from vision.parallel import estimate_track_parallel
    except ImportError:
        from vision.pose import estimate_track

        return estimate_track(info, options.model, on_progress=progress, on_frame=on_frame)
    return estimate_track_parallel(info, options.model, workers=options.workers, on_progress=progress,
                                   on_frame=on_frame)


def _check_person(track: PoseTrack, name: str, scene: dict | None) -> None:
    seen = np.isfinite(track.xy_px[:, :, 0]).any(axis=1)
    share = float(seen.mean()) if len(track) else 0.0
    if share >= MIN_PERSON_SHARE:
        return
    if scene and scene.get("dark"):
        raise NoPersonError(
            f"{name}: no runner found: the clip is too dark (brightness {scene['mean_luma']:.0f} of 255) for a "
            f"person to be seen (found in {100 * share:.0f} % of frames). Film in good light."
        )
    raise NoPersonError(
        f"{name}: no runner found (a person was seen in {100 * share:.0f} % of frames). "
        "Film the whole runner side-on, in good light, with the camera still."
    )


def _scene(info: VideoInfo, track: PoseTrack, sampler: SceneSampler | None = None) -> dict | None:
    """Brightness and camera motion (advisory: None when the check cannot run), from the
    frames ``sampler`` kept during the pose pass, or decoded again when it has not all of them."""
    found = sampler.check(track.xy_px) if sampler is not None else None
    if found is not None:
        return found.as_json()
    try:
        return scene_check(info, track.xy_px).as_json()
    except VideoError:
        return None


def check_clip_length(name: str, info: VideoInfo) -> None:
    """Raise :class:`InputError` (naming the clip ``name``) when the clip is too short to analyse."""
    if info.duration_s < MIN_DURATION_S or info.frames < 10:
        raise _too_short(name, info)


def _too_short(name: str, info: VideoInfo) -> InputError:
    if info.frames <= 1:
        what = "the file holds a single frame (a still picture)"
    else:
        what = f"the clip is {info.duration_s:.1f} s ({info.frames} frames)"
    cut = " The file is also cut off (truncated): only this much of it decodes." if info.truncated else ""
    return InputError(f"{name}: {what}; at least {MIN_DURATION_S:.1f} s of running (two strides or more) is "
                      f"needed. Film 10-20 s of steady running.{cut}")


def _input_warnings(info: VideoInfo, decoded: int, scene: dict | None) -> list[str]:
    """Warnings about the file and the filming (the gait measures add their own)."""
    out = []
    if info.truncated or decoded < info.frames:
        span = float(info.times_s()[max(0, decoded - 1)]) if decoded else 0.0
        out.append(f"The file is cut off (truncated): only the first {decoded} frames ({span:.1f} s) could be "
                   "decoded and analysed; the rest of the file is missing or damaged.")
    if min(info.width, info.height) < SMALL_PICTURE_PX:
        out.append(f"The picture is small ({info.width}x{info.height} pixels), so landmarks are coarse. "
                   "Film at 720p or more.")
    if scene and scene.get("dark"):
        out.append(f"The clip is dark (brightness {scene['mean_luma']:.0f} of 255); landmarks may be unreliable. "
                   "Film in better light.")
    if scene and scene.get("camera_moves"):
        out.append(
            f"The camera moves (the background shifts by about {100 * scene['pan_share_per_s']:.0f} % of the "
            "picture width per second). gaitscope assumes a still camera beside the treadmill, so contact timing "
            "and overstride may be wrong. Fix the phone on a tripod."
        )
    return out


def analyze(
    video: str | Path,
    out_dir: str | Path,
    options: AnalyzeOptions = AnalyzeOptions(),
    on_progress: ProgressFn | None = None,
) -> Analysis:
    """Analyse one clip and write ``analysis.json``, ``strikes.csv`` and ``keypoints.csv``.

    Raises a :class:`metrics.errors.GaitscopeError` subclass with a message for the user
    when the input cannot be analysed.
    """
    video = Path(video)
    out = Path(out_dir)
    info = probe(video, options.capture_fps)
    warnings: list[str] = []
    check_clip_length(video.name, info)
    sha = file_sha256(video)
    key = _cache_key(sha, options.model)
    cache = out / POSE_CACHE_NAME
    track = _load_cached(cache, key, info) if options.use_cache else None
    from_cache = track is not None
    if track is None:
        sampler = SceneSampler(info)
        raw = run_pose(info, options, on_progress, on_frame=sampler.add)
        raw = raw.replace(meta={**raw.meta, "scene": _scene(info, raw, sampler)})
        _check_person(raw, video.name, raw.meta["scene"])  # before anything is written
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _write_error(out, exc) from None
        _save_cache(cache, key, raw)
        # measure from what the cache holds, so a re-run from the cache gives identical results
        track = _load_cached(cache, key, info)
    scene = track.meta.get("scene") if "scene" in track.meta else _scene(info, track)
    decoded = int(track.meta.get("frames_decoded", len(track)))
    _check_person(track, video.name, scene)
    warnings.extend(_input_warnings(info, decoded, scene))
    if track.meta.get("frames_with_several_people", 0) > 0.1 * len(track):
        warnings.append(
            "More than one person is in view; gaitscope followed the runner it found first. "
            "Check the skeleton stays on the runner."
        )
    if on_progress:
        on_progress("metrics", 0, 1)
    gait_opts = options.gait
    if options.runner_height_cm and gait_opts.runner_height_cm is None:
        gait_opts = GaitOptions(**{**asdict(gait_opts), "runner_height_cm": options.runner_height_cm})
    gait = analyze_gait(track, gait_opts)
    warnings.extend(gait.warnings)
    try:
        document = write_results(out, info, gait, options={**asdict(options), "gait": asdict(gait_opts)},
                                 sha256=sha, warnings=warnings)
    except OSError as exc:
        _remove_temporaries(out)
        raise _write_error(out, exc) from None
    if on_progress:
        on_progress("metrics", 1, 1)
    return Analysis(info, track, gait, out, from_cache, warnings, document)
