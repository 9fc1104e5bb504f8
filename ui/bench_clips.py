"""Synthetic benchmark clips made from a real one: slow motion (240 fps) and long 1080p.

Phones film slow motion at 120/240 fps; no such clip of a runner ships with gaitscope,
so :func:`make_clip` makes one from the sample: frames are resized and resampled in
time by blending the two nearest source frames (a cross-fade, not optical flow, so
fast limbs show a faint double image), and the source is looped when the new clip is
longer than it. The result is stored as H.264 with a keyframe every second, as a
phone writes it. It is for timing and memory only: its motion is the source's motion,
not real 240 fps detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

from vision.video import Frame, VideoInfo, iter_frames, probe
from vision.writer import VideoWriter

__all__ = ["ClipSpec", "SLOWMO", "LONG_1080P", "make_clip"]


@dataclass(frozen=True)
class ClipSpec:
    """A clip to make: ``fps`` frames a second for ``seconds``, shorter picture side ``short_side_px``."""

    fps: float
    seconds: float
    short_side_px: int
    crf: int = 23

    @property
    def frames(self) -> int:
        return int(round(self.fps * self.seconds))


#: 10 s of 240 fps 720p slow motion (2400 frames).
SLOWMO = ClipSpec(fps=240.0, seconds=10.0, short_side_px=720)
#: 60 s of 60 fps 1080p (3600 frames), for the memory bound.
LONG_1080P = ClipSpec(fps=60.0, seconds=60.0, short_side_px=1080)


def _target_size(info: VideoInfo, short_side_px: int) -> tuple[int, int]:
    s = short_side_px / min(info.width, info.height)
    return int(round(info.width * s / 2)) * 2, int(round(info.height * s / 2)) * 2


def _looped(info: VideoInfo) -> Iterator[Frame]:
    """The source's frames over and over (index counts on across loops)."""
    k = 0
    while True:
        n = 0
        for fr in iter_frames(info):
            yield Frame(k, fr.t_s, fr.rgb)
            k += 1
            n += 1
        if n == 0:
            return


def resampled(info: VideoInfo, spec: ClipSpec) -> Iterator[np.ndarray]:
    """Frames of the new clip: source frames at ``spec`` size, cross-faded to ``spec.fps``."""
    size = _target_size(info, spec.short_side_px)
    src_fps = info.fps if info.fps > 0 else 30.0
    source = _looped(info)
    a = b = None
    for j in range(spec.frames):
        u = j * src_fps / spec.fps  # position in source frames
        i = int(np.floor(u))
        while b is None or b.index < i + 1:
            a = b
            nxt = next(source)
            b = Frame(nxt.index, nxt.t_s, cv2.resize(nxt.rgb, size, interpolation=cv2.INTER_LINEAR))
        w = float(u - i)
        yield a.rgb if w < 1e-6 else cv2.addWeighted(a.rgb, 1.0 - w, b.rgb, w, 0.0)


def make_clip(source: str | Path, out: str | Path, spec: ClipSpec,
              on_progress: Callable[[int, int], object] | None = None) -> Path:
    """Write ``spec``'s clip made from ``source`` to ``out`` (H.264 MP4); returns ``out``."""
    info = probe(source)
    size = _target_size(info, spec.short_side_px)
    with VideoWriter(out, spec.fps, size, crf=spec.crf, gop=max(1, int(round(spec.fps)))) as w:
        for j, rgb in enumerate(resampled(info, spec)):
            w.write(rgb)
            if on_progress is not None:
                on_progress(j + 1, spec.frames)
    return Path(out)
