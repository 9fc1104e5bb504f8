"""Synthetic benchmark clips made from a real one: slow motion (240 fps) and long 1080p.

Phones film slow motion at 120/240 fps; no such clip of a runner ships with gaitscope,
so :func:`make_clip` makes one from the sample: frames are resized and resampled in
time by blending the two nearest source frames (a cross-fade, not optical flow, so
fast limbs show a faint double image), and the source is looped when the new clip is
longer than it. Each frame gets its own sensor-like noise: without it, neighbouring
frames of a 240 fps cross-fade differ so little that they look like repeated frames,
and they compress to a fraction of a phone's bit rate (real 240 fps footage carries
noise from the short exposure). The result is stored as H.264 with a keyframe every
second, as a phone writes it. It is for timing and memory only: its motion is the
source's motion, not real 240 fps detail.
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
    noise_sd: float = 3.0  # grey levels of per-frame noise

    @property
    def frames(self) -> int:
        return int(round(self.fps * self.seconds))


#: 10 s of 240 fps 720p slow motion (2400 frames), about 23 Mbit/s like a phone's (crf 15 keeps the noise).
SLOWMO = ClipSpec(fps=240.0, seconds=10.0, short_side_px=720, crf=15, noise_sd=3.0)
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
    rng = np.random.default_rng(0)
    bank = [rng.normal(0.0, spec.noise_sd, (size[1], size[0], 1)).astype(np.int16) for _ in range(8)]
    a = b = None
    for j in range(spec.frames):
        u = j * src_fps / spec.fps  # position in source frames
        i = int(np.floor(u))
        while b is None or b.index < i + 1:
            a = b
            nxt = next(source)
            b = Frame(nxt.index, nxt.t_s, cv2.resize(nxt.rgb, size, interpolation=cv2.INTER_LINEAR))
        w = float(u - i)
        rgb = a.rgb if w < 1e-6 else cv2.addWeighted(a.rgb, 1.0 - w, b.rgb, w, 0.0)
        if spec.noise_sd > 0:
            noise = np.roll(bank[j % len(bank)], int(rng.integers(0, size[0])), axis=1)  # no pattern repeats
            rgb = np.clip(rgb.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        yield rgb


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
