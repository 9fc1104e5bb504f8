"""Two facts about the filming that the pose track cannot tell: how dark the clip is, and
whether the camera moves.

Frames a tenth of a second apart from the middle :data:`WINDOW_S` seconds of the clip are
looked at, shrunk to :data:`CHECK_MAX_SIDE` pixels and turned grey, and

* the mean brightness (grey level 0-255 of the decoded RGB picture) of those frames;
* the speed of the picture as a whole, from the motion of background corners between
  consecutive samples. With the phone on a tripod the background stands still (the runner
  on the treadmill stays in place too), so the median speed is near zero; a panning or
  hand-held camera moves the whole picture.

The samples normally come from the pose pass itself (:class:`SceneSampler`, fed each
decoded frame), so the check costs no decoding; :func:`scene_check` decodes them on its
own when no sampler ran (about 0.2-0.5 s for a phone clip).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import av
import cv2
import numpy as np

from vision.video import Frame, VideoInfo, _open, upright

__all__ = ["SceneCheck", "SceneSampler", "scene_check", "sample_indices", "DARK_LUMA", "PAN_SHARE_PER_S",
           "WINDOW_S", "CHECK_MAX_SIDE"]

#: Seconds of clip (file time) looked at, centred on the middle of the clip.
WINDOW_S = 3.0
#: Seconds between two compared frames.
STEP_S = 0.1
#: Longer side of the frames compared, pixels.
CHECK_MAX_SIDE = 320
#: Mean grey level below which a clip counts as dark (the development set's dim gym clip is ~47).
DARK_LUMA = 40.0
#: Median picture speed, as a share of the picture's width per second, above which the camera moves.
PAN_SHARE_PER_S = 0.05
#: Wall-clock bound of the check, seconds.
TIMEOUT_S = 20.0


@dataclass(frozen=True)
class SceneCheck:
    """``mean_luma`` 0-255; ``pan_share_per_s``: median speed of the whole picture in picture
    widths per second; ``samples``: frames compared (0 when nothing decoded)."""

    mean_luma: float
    pan_share_per_s: float
    samples: int

    @property
    def dark(self) -> bool:
        return self.samples > 0 and self.mean_luma < DARK_LUMA

    @property
    def camera_moves(self) -> bool:
        return self.samples >= 3 and self.pan_share_per_s > PAN_SHARE_PER_S

    def as_json(self) -> dict:
        return {"mean_luma": round(self.mean_luma, 1), "pan_share_per_s": round(self.pan_share_per_s, 4),
                "samples": self.samples, "dark": self.dark, "camera_moves": self.camera_moves}


def _file_times_s(info: VideoInfo) -> np.ndarray:
    t = np.asarray(info.pts, float) * info.time_base
    return t - t[0] if len(t) else t


def sample_indices(info: VideoInfo, window_s: float = WINDOW_S, step_s: float = STEP_S) -> list[int]:
    """Frames the check looks at: from the middle ``window_s`` seconds (file time), at least
    ``step_s`` apart, in order."""
    t = _file_times_s(info)
    if len(t) == 0:
        return []
    mid = 0.5 * t[-1]
    start = int(np.searchsorted(t, mid - window_s / 2))
    stop = max(int(np.searchsorted(t, mid + window_s / 2, side="right")), start + 1)
    out, next_t = [], -np.inf
    for i in range(start, min(stop, len(t))):
        if t[i] >= next_t:
            out.append(i)
            next_t = t[i] + step_s
    return out


def _check_size(info: VideoInfo) -> tuple[int, int]:
    """(width, height) of the upright grey samples."""
    scale = min(1.0, CHECK_MAX_SIDE / max(info.width, info.height, 1))
    return max(2, int(info.width * scale)), max(2, int(info.height * scale))


def grey_sample(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An upright RGB frame (any size) as a grey picture (0-255) of ``size`` (w, h)."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if (grey.shape[1], grey.shape[0]) != size:
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return grey


class SceneSampler:
    """Keeps the samples of the check as the pose pass decodes frames (``add`` is safe to call
    from several worker threads); :meth:`check` measures them once the pass is over."""

    def __init__(self, info: VideoInfo):
        self._info = info
        self._wanted = frozenset(sample_indices(info))
        self._size = _check_size(info)
        self._grey: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def add(self, frame: Frame) -> None:
        if frame.index in self._wanted:
            grey = grey_sample(frame.rgb, self._size)
            with self._lock:
                self._grey[frame.index] = grey

    def check(self, xy_px: np.ndarray | None = None) -> SceneCheck | None:
        """The check from the samples kept; ``None`` when some were never seen (the pass was
        cut short or ran elsewhere): call :func:`scene_check` then."""
        if not self._wanted or set(self._grey) != self._wanted:
            return None
        t = _file_times_s(self._info)
        samples = [(i, float(t[i]), self._grey[i]) for i in sorted(self._grey)]
        return _measure(samples, self._info, xy_px)


def _sampled_grey(info: VideoInfo, indices: list[int], deadline: float):
    """``(index, t_s, grey)`` of the frames ``indices`` (sorted), decoded here."""
    if not indices:
        return
    t = _file_times_s(info)
    index_of = {p: i for i, p in enumerate(info.pts)}
    wanted, start, stop = set(indices), indices[0], indices[-1] + 1
    size = _check_size(info)
    coded = size if info.rotation_deg % 180 == 0 else size[::-1]
    container = _open(info.path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if start > 0:
            container.seek(int(info.pts[start]), stream=stream, backward=True, any_frame=False)
        i = -1
        try:
            for frame in container.decode(stream):
                i = index_of.get(frame.pts, i + 1) if frame.pts is not None else i + 1
                if i >= stop or time.monotonic() > deadline:
                    break
                if i not in wanted:
                    continue
                rgb = upright(frame.to_ndarray(format="rgb24", width=coded[0], height=coded[1]), info.rotation_deg)
                yield i, float(t[i]), grey_sample(rgb, size)
        except av.error.FFmpegError:
            return  # a damaged stretch: what was sampled is enough
    finally:
        container.close()


def _background_mask(shape: tuple[int, int], box: np.ndarray | None) -> np.ndarray:
    """255 outside the runner's box (grown by a quarter of its size on every side), 0 inside."""
    mask = np.full(shape, 255, np.uint8)
    if box is not None:
        x0, y0, x1, y1 = box
        gx, gy = 0.25 * (x1 - x0), 0.25 * (y1 - y0)
        h, w = shape
        mask[max(0, int(y0 - gy)):min(h, int(np.ceil(y1 + gy))), max(0, int(x0 - gx)):min(w, int(np.ceil(x1 + gx)))] = 0
    return mask


def _runner_box(xy_px: np.ndarray | None, scale: float) -> np.ndarray | None:
    """(x0, y0, x1, y1) of the landmarks seen in one frame, in the check's pixels; None if none seen."""
    if xy_px is None:
        return None
    pts = xy_px[np.isfinite(xy_px).all(axis=1)]
    if len(pts) == 0:
        return None
    return np.array([*pts.min(axis=0), *pts.max(axis=0)]) * scale


def _background_shift_px(prev: np.ndarray, cur: np.ndarray, mask: np.ndarray) -> float | None:
    """Length of the median motion of background corners from ``prev`` to ``cur``; None if too few corners."""
    corners = cv2.goodFeaturesToTrack(prev, maxCorners=120, qualityLevel=0.01, minDistance=5, mask=mask)
    if corners is None or len(corners) < 8:
        return None
    moved, ok, _ = cv2.calcOpticalFlowPyrLK(prev, cur, corners, None, winSize=(15, 15), maxLevel=3)
    ok = ok.ravel().astype(bool)
    if ok.sum() < 8:
        return None
    flow = (moved - corners).reshape(-1, 2)[ok]
    return float(np.hypot(*np.median(flow, axis=0)))


def scene_check(info: VideoInfo, xy_px: np.ndarray | None = None) -> SceneCheck:
    """Brightness and camera motion of the middle of a clip, decoding the samples here (see
    module notes). ``xy_px`` (frames, landmarks, 2): the runner's landmarks in upright pixels,
    from the pose track; the runner's box is left out when the background's motion is measured.
    """
    deadline = time.monotonic() + TIMEOUT_S
    return _measure(list(_sampled_grey(info, sample_indices(info), deadline)), info, xy_px)


def _measure(samples: list, info: VideoInfo, xy_px: np.ndarray | None) -> SceneCheck:
    """The check from ``(index, file time s, grey)`` samples in time order."""
    lumas, speeds = [], []
    prev = None
    for index, ft, g in samples:
        lumas.append(float(g.mean()))
        if prev is not None and prev.shape == g.shape and ft > prev_t:
            scale = g.shape[1] / max(1, info.width)
            rows = [xy_px[i] for i in (prev_i, index) if xy_px is not None and i < len(xy_px)]
            boxes = [b for b in (_runner_box(r, scale) for r in rows) if b is not None]
            box = np.array([*np.min(boxes, axis=0)[:2], *np.max(boxes, axis=0)[2:]]) if boxes else None
            shift = _background_shift_px(prev, g, _background_mask(g.shape, box))
            if shift is not None:
                speeds.append(shift / g.shape[1] / (ft - prev_t))
        prev, prev_t, prev_i = g, ft, index
    if not lumas:
        return SceneCheck(0.0, 0.0, 0)
    return SceneCheck(float(np.mean(lumas)), float(np.median(speeds)) if speeds else 0.0, len(speeds))
