"""Pose estimation with MediaPipe's Tasks API (``PoseLandmarker``, VIDEO mode).

The model bundles ship in ``vision/models/`` (built from registry packages by
``scripts/build_pose_models.py``); nothing is downloaded at run time.
This module is the adapter from MediaPipe to :class:`metrics.track.PoseTrack`:
metrics never imports mediapipe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from metrics.errors import Cancelled, InputError
from metrics.landmarks import N_LANDMARKS, Landmark
from metrics.track import PoseTrack
from vision.video import Frame, VideoInfo, iter_frames

__all__ = ["MODELS", "model_path", "PoseEstimator", "estimate_track", "POSE_INPUT_MAX_SIDE"]

MODELS_DIR = Path(__file__).resolve().parent / "models"
MODELS = ("lite", "full", "heavy")
#: Frames are shrunk to this longer side before the model sees them (it works at 256x256).
POSE_INPUT_MAX_SIDE = 960

ProgressFn = Callable[[int, int], bool | None]


def model_path(model: str) -> Path:
    if model not in MODELS:
        raise InputError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    path = MODELS_DIR / f"pose_landmarker_{model}.task"
    if not path.is_file():
        raise InputError(f"the {model} pose model is missing at {path}; reinstall gaitscope from a clean checkout.")
    return path


@dataclass
class _Pose:
    xy: np.ndarray  # (K, 2) normalised [0, 1]
    vis: np.ndarray  # (K,)
    z: np.ndarray  # (K,) depth, smaller = nearer the camera


class PoseEstimator:
    """One MediaPipe PoseLandmarker in VIDEO mode; feed frames in time order.

    ``num_poses=2`` lets the caller notice a second person and keep following
    the runner rather than whoever the detector prefers.
    """

    def __init__(self, model: str = "full", num_poses: int = 2):
        from mediapipe.tasks.python import BaseOptions
        from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode

        options = PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path(model))),
            running_mode=RunningMode.VIDEO,
            num_poses=num_poses,
            min_pose_detection_confidence=0.5,
            min_pose_presence_confidence=0.5,
            min_tracking_confidence=0.5,
        )
        self._landmarker = PoseLandmarker.create_from_options(options)
        self._last_ms = -1

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> "PoseEstimator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def estimate(self, rgb: np.ndarray, t_ms: int) -> list[_Pose]:
        """All poses found in one upright RGB frame, coordinates normalised to [0, 1]."""
        import mediapipe as mp

        t_ms = max(int(t_ms), self._last_ms + 1)  # the API needs strictly increasing times
        self._last_ms = t_ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        result = self._landmarker.detect_for_video(image, t_ms)
        poses = []
        for lms in result.pose_landmarks:
            xy = np.array([[p.x, p.y] for p in lms], dtype=float)
            vis = np.array([p.visibility if p.visibility is not None else 0.0 for p in lms], dtype=float)
            z = np.array([p.z if p.z is not None else np.nan for p in lms], dtype=float)
            poses.append(_Pose(xy, vis, z))
        return poses


_HIPS = (int(Landmark.left_hip), int(Landmark.right_hip))


def _pick_runner(poses: list[_Pose], prev_centre: np.ndarray | None) -> _Pose:
    """The pose nearest the runner's previous hip centre; the largest one at the start."""
    if len(poses) == 1:
        return poses[0]
    if prev_centre is not None:
        d = [np.linalg.norm(p.xy[list(_HIPS)].mean(axis=0) - prev_centre) for p in poses]
        return poses[int(np.argmin(d))]
    sizes = [np.ptp(p.xy[:, 1]) for p in poses]
    return poses[int(np.argmax(sizes))]


#: Mean absolute grey-level difference (0-255) below which a frame repeats the previous one.
REPEAT_DIFF = 0.6


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """A small grey thumbnail for spotting repeated frames."""
    h, w = rgb.shape[:2]
    sy, sx = max(1, h // 48), max(1, w // 48)
    return rgb[::sy, ::sx].mean(axis=2, dtype=np.float32)


def is_repeat(thumb: np.ndarray, prev: np.ndarray | None) -> bool:
    return prev is not None and prev.shape == thumb.shape and float(np.abs(thumb - prev).mean()) < REPEAT_DIFF


def estimate_track(
    info: VideoInfo,
    model: str = "full",
    start: int = 0,
    stop: int | None = None,
    on_progress: ProgressFn | None = None,
    frames: Iterable[Frame] | None = None,
) -> PoseTrack:
    """Run the pose model over frames ``[start, stop)`` of a clip.

    Returns a :class:`PoseTrack` for those frames (row 0 = frame ``start``) in pixels of
    the upright picture. ``meta`` records how many frames had a second person.
    ``on_progress(done, total)`` may return ``False`` to cancel (raises ``Cancelled``).
    """
    stop = info.frames if stop is None else min(stop, info.frames)
    n = max(0, stop - start)
    times = info.times_s()[start:stop]
    xy = np.full((n, N_LANDMARKS, 2), np.nan)
    vis = np.zeros((n, N_LANDMARKS))
    zz = np.full((n, N_LANDMARKS), np.nan)
    repeated = np.zeros(n, bool)
    prev_thumb = None
    multi = 0
    decoded = 0
    prev_centre = None
    size = np.array([info.width, info.height], dtype=float)
    source = frames if frames is not None else iter_frames(info, start, stop, max_side=POSE_INPUT_MAX_SIDE)
    with PoseEstimator(model) as est:
        for frame in source:
            row = frame.index - start
            decoded += 1
            thumb = thumbnail(frame.rgb)
            repeated[row] = is_repeat(thumb, prev_thumb)
            prev_thumb = thumb
            poses = est.estimate(frame.rgb, round(frame.t_s * 1000))
            if poses:
                multi += len(poses) > 1
                p = _pick_runner(poses, prev_centre)
                xy[row] = p.xy * size
                vis[row] = p.vis
                zz[row] = p.z
                prev_centre = p.xy[list(_HIPS)].mean(axis=0)
            if on_progress is not None and on_progress(decoded, n) is False:
                raise Cancelled("analysis cancelled")
    meta = {"frames_decoded": decoded, "frames_with_several_people": multi, "model": model}
    return PoseTrack(xy, vis, times, (info.width, info.height), meta, z=zz, repeated=repeated)
