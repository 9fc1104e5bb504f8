"""Make test clips from the sample with PyAV: rotated, HEVC, variable frame rate, slow-motion tagged, cut short.

Every test makes the files it needs from ``sample_videos/`` so that CI needs nothing else.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "zzzhushi_male_side.mp4"


def read_frames(path: Path = SAMPLE, n: int | None = None, step: int = 1) -> list[np.ndarray]:
    """Upright RGB frames as stored (the sample has no rotation)."""
    out = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if n is not None and i >= n:
                break
            if i % step == 0:
                out.append(f.to_ndarray(format="rgb24"))
    return out


def write_clip(
    path: Path,
    frames: list[np.ndarray],
    pts_s: list[float] | None = None,
    fps: float = 30.0,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation_deg: int = 0,
    container_format: str | None = None,
    metadata: dict | None = None,
    preset: str | None = None,
    keyint: int | None = None,
    faststart: bool = False,
) -> Path:
    """Write frames; ``pts_s`` gives each frame's own time (variable frame rate).

    With ``rotation_deg`` the frames are stored turned the other way and the display
    matrix says to turn them back (counter-clockwise degrees, as PyAV reads it), as a
    phone does for portrait clips. ``preset`` and ``keyint`` go to x264 (``"ultrafast"``
    encodes big pictures in reasonable time); ``faststart`` puts the MP4 index first.
    """
    movflags = ("+faststart" if faststart else "") + ("+use_metadata_tags" if metadata else "")
    opts = {"movflags": movflags} if movflags else {}
    with av.open(str(path), "w", format=container_format, options=opts) as c:
        if metadata:
            c.metadata.update(metadata)
        s = c.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        k = (rotation_deg // 90) % 4
        h, w = np.rot90(frames[0], -k).shape[:2]
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        if codec == "libx265":
            s.options = {"x265-params": "log-level=error"}
        elif preset or keyint:
            params = (f"keyint={keyint}:" if keyint else "") + "log-level=error"
            s.options = {**({"preset": preset} if preset else {}), "x264-params": params}
        if rotation_deg:
            s.set_display_rotation(rotation_deg)
        if pts_s is not None:
            s.codec_context.time_base = Fraction(1, 90000)
        for i, rgb in enumerate(frames):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.rot90(rgb, -k)), format="rgb24")
            if pts_s is not None:
                f.pts = int(round(pts_s[i] * 90000))
                f.time_base = Fraction(1, 90000)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def excerpt(path: Path, seconds: float, fps: float = 30.0, start_frame: int = 0) -> Path:
    """The first ``seconds`` of the sample (from ``start_frame``), re-encoded H.264."""
    frames = read_frames(SAMPLE, n=start_frame + int(round(seconds * fps)))[start_frame:]
    return write_clip(path, frames, fps=fps)
