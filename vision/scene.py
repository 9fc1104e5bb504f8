"""Two facts about the filming that the pose track cannot tell: how dark the clip is, and
whether the camera moves.

:func:`scene_check` decodes a short stretch from the middle of the clip at a tiny size
and measures

* the mean brightness (luma, 0-255) of those frames;
* the speed of the picture as a whole, by phase correlation between frames a tenth of a
  second apart. With the phone on a tripod the background stands still (the runner on the
  treadmill stays in place too), so the median speed is near zero; a panning or
  hand-held camera moves the whole picture.

Cost: one decode of :data:`WINDOW_S` seconds at :data:`CHECK_MAX_SIDE` pixels (about
0.2-0.5 s for a phone clip).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import av
import cv2
import numpy as np

from vision.video import VideoInfo, _open, upright

__all__ = ["SceneCheck", "scene_check", "DARK_LUMA", "PAN_SHARE_PER_S", "WINDOW_S", "CHECK_MAX_SIDE"]

#: Seconds of clip (file time) looked at, centred on the middle of the clip.
WINDOW_S = 3.0
#: Seconds between two compared frames.
STEP_S = 0.1
#: Longer side of the frames compared, pixels.
CHECK_MAX_SIDE = 320
#: Mean luma below which a clip counts as dark (the development set's dark gym clip is ~47).
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


def _sampled_grey(info: VideoInfo, start: int, stop: int, step_s: float, max_side: int, deadline: float):
    """``(index, t_s, grey)`` of frames ``start <= index < stop`` at least ``step_s`` apart (file time),
    upright, shrunk to ``max_side``. Only the sampled frames are converted."""
    t = (np.asarray(info.pts, float) - info.pts[0]) * info.time_base
    index_of = {p: i for i, p in enumerate(info.pts)}
    scale = min(1.0, max_side / max(info.width, info.height, 1))
    container = _open(info.path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if start > 0:
            container.seek(int(info.pts[start]), stream=stream, backward=True, any_frame=False)
        next_t, i = -np.inf, -1
        try:
            for frame in container.decode(stream):
                i = index_of.get(frame.pts, i + 1) if frame.pts is not None else i + 1
                if i >= stop or time.monotonic() > deadline:
                    break
                if i < start or t[i] < next_t:
                    continue
                next_t = t[i] + step_s
                w, h = max(2, int(frame.width * scale)), max(2, int(frame.height * scale))
                grey = frame.reformat(width=w, height=h, format="gray").to_ndarray()
                yield i, float(t[i]), upright(grey, info.rotation_deg)
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


def scene_check(info: VideoInfo, xy_px: np.ndarray | None = None, window_s: float = WINDOW_S,
                step_s: float = STEP_S) -> SceneCheck:
    """Brightness and camera motion of the middle ``window_s`` seconds of a clip (see module notes).

    ``xy_px`` (frames, landmarks, 2): the runner's landmarks in upright pixels, from the pose
    track; the runner's box is left out when the background's motion is measured.
    """
    t = np.asarray(info.pts, float) * info.time_base
    if len(t) == 0:
        return SceneCheck(0.0, 0.0, 0)
    t = t - t[0]
    mid = 0.5 * t[-1]
    start = int(np.searchsorted(t, mid - window_s / 2))
    stop = int(np.searchsorted(t, mid + window_s / 2, side="right"))
    lumas, speeds = [], []
    prev = None
    deadline = time.monotonic() + TIMEOUT_S
    for index, ft, g in _sampled_grey(info, start, max(stop, start + 1), step_s, CHECK_MAX_SIDE, deadline):
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
