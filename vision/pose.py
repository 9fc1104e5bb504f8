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
from vision.mediapipe_import import mediapipe
from vision.video import Frame, VideoInfo, iter_frames

__all__ = ["MODELS", "model_path", "PoseEstimator", "PeopleCounter", "estimate_track", "POSE_INPUT_MAX_SIDE", "pose_input_side"]

MODELS_DIR = Path(__file__).resolve().parent / "models"
MODELS = ("lite", "full", "heavy")
#: Frames whose longer side exceeds this are shrunk by a whole factor before the model sees them
#: (it works on 224/256 px crops). 720p passes as is; 1080p is halved; 4K is divided by 3.
POSE_INPUT_MAX_SIDE = 1280


def pose_input_side(info: VideoInfo) -> int | None:
    """Longer side of the frames given to the model, or None for the decoded size.

    Shrinking by a whole factor (1/2, 1/3, ...) is the cheapest resize in the decoder
    (about 4 ms a 1080p frame less than to 1280 px, and 720p is not resized at all); the
    model's accuracy against hand-marked joints is the same at full size and at 960 px.

    >>> from types import SimpleNamespace as S
    >>> pose_input_side(S(width=720, height=1280)), pose_input_side(S(width=1920, height=1080))
    (None, 960)
    >>> pose_input_side(S(width=3840, height=2160))
    1280
    """
    side = max(info.width, info.height)
    k = -(-side // POSE_INPUT_MAX_SIDE)  # ceiling division
    return None if k <= 1 else side // k

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
    """One MediaPipe PoseLandmarker in VIDEO mode following one person; feed frames in time order.

    VIDEO mode with ``num_poses=1`` tracks the runner from frame to frame and runs the
    person detector only when tracking is lost (about 21 ms a frame for the full model
    on this class of machine, against 36 ms with the detector every frame, and steadier
    landmarks). Other people in view are counted separately by :class:`PeopleCounter`, on
    a few frames only.
    """

    def __init__(self, model: str = "full"):
        mediapipe()  # imported here (not at module level): the first import takes about 0.3 s
        from mediapipe.tasks.python import BaseOptions
        from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode

        self._model = model
        options = PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path(model))),
            running_mode=RunningMode.VIDEO,
            num_poses=1,
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
        """The tracked person in one upright RGB frame (empty list if none), coordinates in [0, 1]."""
        mp = mediapipe()
        t_ms = max(int(t_ms), self._last_ms + 1)  # the API needs strictly increasing times
        self._last_ms = t_ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        return _poses(self._landmarker.detect_for_video(image, t_ms))

class PeopleCounter:
    """How many people the detector finds in one frame (up to 3), independent of any tracking.

    The lite model in IMAGE mode: it keeps no state from frame to frame, so one counter can
    serve every segment a worker runs (its answer for a frame does not depend on what it saw
    before). Created on first use: about 0.12 s.
    """

    def __init__(self):
        self._landmarker = None

    def count(self, rgb: np.ndarray) -> int:
        mp = mediapipe()
        if self._landmarker is None:
            from mediapipe.tasks.python import BaseOptions
            from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode

            self._landmarker = PoseLandmarker.create_from_options(PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(model_path("lite"))),
                running_mode=RunningMode.IMAGE, num_poses=3, min_pose_detection_confidence=0.5,
            ))
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        return len(self._landmarker.detect(image).pose_landmarks)

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> "PeopleCounter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _poses(result) -> list[_Pose]:
    poses = []
    for lms in result.pose_landmarks:
        xy = np.array([[p.x, p.y] for p in lms], dtype=float)
        vis = np.array([p.visibility if p.visibility is not None else 0.0 for p in lms], dtype=float)
        z = np.array([p.z if p.z is not None else np.nan for p in lms], dtype=float)
        poses.append(_Pose(xy, vis, z))
    return poses


#: Seconds (of clip time) between two checks for other people in view.
PEOPLE_CHECK_S = 1.0


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
    warmup: int = 0,
    counter: PeopleCounter | None = None,
    on_frame: Callable[[Frame], None] | None = None,
) -> PoseTrack:
    """Run the pose model over frames ``[start, stop)`` of a clip.

    Returns a :class:`PoseTrack` for those frames (row 0 = frame ``start``) in pixels of
    the upright picture. ``meta`` records how many frames had a second person.
    ``on_progress(done, total)`` may return ``False`` to cancel (raises ``Cancelled``).
    ``warmup`` frames before ``start`` are run through the model first but not recorded,
    so that VIDEO-mode tracking, smoothing and the runner choice have settled at
    ``start``. ``counter``: the :class:`PeopleCounter` to use (a worker running several
    segments passes its own, created once); ``None`` makes one for this call.
    ``on_frame(frame)`` is called with every recorded frame after the model saw it (e.g. to
    sample frames for :mod:`vision.scene` without decoding them again).
    """
    stop = info.frames if stop is None else min(stop, info.frames)
    n = max(0, stop - start)
    times = info.times_s()[start:stop]
    xy = np.full((n, N_LANDMARKS, 2), np.nan)
    vis = np.zeros((n, N_LANDMARKS))
    zz = np.full((n, N_LANDMARKS), np.nan)
    repeated = np.zeros(n, bool)
    prev_thumb = None
    checks = crowded = 0
    next_check_s = -np.inf
    decoded = 0
    prev_centre = None
    size = np.array([info.width, info.height], dtype=float)
    first = max(0, start - max(0, int(warmup)))
    source = frames if frames is not None else iter_frames(info, first, stop, max_side=pose_input_side(info))
    own_counter = counter is None
    counter = PeopleCounter() if own_counter else counter
    try:
        with PoseEstimator(model) as est:
            for frame in source:
                row = frame.index - start
                thumb = thumbnail(frame.rgb)
                is_rep = is_repeat(thumb, prev_thumb)
                prev_thumb = thumb
                poses = est.estimate(frame.rgb, round(frame.t_s * 1000))
                p = _pick_runner(poses, prev_centre) if poses else None
                if row >= 0 and frame.t_s >= next_check_s:
                    next_check_s = frame.t_s + PEOPLE_CHECK_S
                    checks += 1
                    crowded += counter.count(frame.rgb) > 1
                if p is not None:
                    prev_centre = p.xy[list(_HIPS)].mean(axis=0)
                if row < 0:  # warm-up frame: settles tracking, not recorded
                    continue
                decoded += 1
                repeated[row] = is_rep
                if p is not None:
                    xy[row] = p.xy * size
                    vis[row] = p.vis
                    zz[row] = p.z
                if on_frame is not None:
                    on_frame(frame)
                if on_progress is not None and on_progress(decoded, n) is False:
                    raise Cancelled("analysis cancelled")
    finally:
        if own_counter:
            counter.close()
    several = int(round(decoded * crowded / checks)) if checks else 0
    meta = {"frames_decoded": decoded, "frames_with_several_people": several, "model": model,
            "people_checks": checks, "people_checks_crowded": crowded}
    return PoseTrack(xy, vis, times, (info.width, info.height), meta, z=zz, repeated=repeated)
