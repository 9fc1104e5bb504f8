"""Hostile and broken inputs, made on the spot from the sample clip (nothing downloaded, nothing stored).

Every maker writes one file at ``path`` and returns the path. Clips are kept tiny (small
pictures, a second or two) because the pose model is the expensive part of every test.
"""

from __future__ import annotations

import zlib
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tests.clipmaker import SAMPLE, read_frames, write_clip

__all__ = [
    "zero_bytes", "random_bytes", "png_renamed", "pdf_renamed", "audio_only", "truncated", "one_frame",
    "sample_frames", "small_clip", "resized_clip", "long_static_clip", "no_person_clip", "two_runners_clip",
    "panning_clip", "dark_clip", "shared_excerpt", "huge_picture_clip", "blank_clip", "HOSTILE_NAME",
]

#: A file name with spaces, quotes, shell syntax, accents and an emoji.
HOSTILE_NAME = "run $(touch PWNED); `id` & ü 😀 'a' \"b\" ;.mp4"


def zero_bytes(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def random_bytes(path: Path, n: int = 20_000, seed: int = 0) -> Path:
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes())
    return path


def png_renamed(path: Path) -> Path:
    """A real PNG picture (a frame of the sample) under a video name."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(read_frames(n=1)[0][::4, ::4], cv2.COLOR_RGB2BGR))
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def pdf_renamed(path: Path) -> Path:
    """A small but well-formed one-page PDF under a video name."""
    stream = zlib.compress(b"BT /F1 24 Tf 72 700 Td (not a video) Tj ET")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def audio_only(path: Path, seconds: float = 2.0, rate: int = 44100) -> Path:
    """An AAC-only MP4/M4A (what a phone's voice recorder makes): a 440 Hz tone."""
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=rate)
        s.layout = "mono"
        n = int(seconds * rate)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.float32)
        step = 1024
        for i in range(0, n, step):
            chunk = tone[i:i + step]
            f = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            f.sample_rate, f.pts, f.time_base = rate, i, Fraction(1, rate)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def sample_frames(n: int, max_side: int = 320, start: int = 0, step: int = 1) -> list[np.ndarray]:
    """``n`` frames of the sample from ``start`` (every ``step``-th), shrunk to ``max_side`` (even sizes)."""
    frames = read_frames(SAMPLE, n=start + n * step)[start::step][:n]
    h, w = frames[0].shape[:2]
    s = min(1.0, max_side / max(h, w))
    size = (int(round(w * s / 2)) * 2, int(round(h * s / 2)) * 2)
    return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) if s < 1 else f for f in frames]


def small_clip(path: Path, seconds: float = 2.0, fps: float = 30.0, max_side: int = 320, start: int = 0) -> Path:
    """The first ``seconds`` of the sample at a small size (the runner stays side-on and whole)."""
    return write_clip(path, sample_frames(int(round(seconds * fps)), max_side, start), fps=fps)


def truncated(path: Path, seconds: float = 2.0, keep: float = 0.5, faststart: bool = True) -> Path:
    """A clip cut off after ``keep`` of its bytes, as an interrupted copy or upload leaves it.

    ``faststart`` puts the index (moov) first, as phones' exports and web uploads do, so the
    first part still decodes; without it the index is lost with the tail.
    """
    full = path.with_name(path.stem + ".full.mp4")
    frames = sample_frames(int(round(seconds * 30)), max_side=426)
    if faststart:
        with av.open(str(full), "w", format="mp4", options={"movflags": "+faststart"}) as c:
            s = c.add_stream("libx264", rate=30)
            s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
            for rgb in frames:
                for p in s.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                    c.mux(p)
            for p in s.encode():
                c.mux(p)
    else:
        write_clip(full, frames)
    raw = full.read_bytes()
    full.unlink()
    path.write_bytes(raw[: int(len(raw) * keep)])
    return path


def one_frame(path: Path) -> Path:
    return write_clip(path, sample_frames(1))


def resized_clip(path: Path, size: tuple[int, int], seconds: float, fps: float = 30.0, step: int = 1) -> Path:
    """Sample frames (every ``step``-th) letterboxed into ``size`` = (width, height)."""
    n = int(round(seconds * fps))
    w, h = size
    out = []
    for f in read_frames(SAMPLE, n=n * step, step=step)[:n]:
        fh, fw = f.shape[:2]
        s = min(w / fw, h / fh)
        small = cv2.resize(f, (max(2, int(fw * s)), max(2, int(fh * s))),
                           interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        canvas = np.zeros((h, w, 3), np.uint8)
        y0, x0 = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
        canvas[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
        out.append(canvas)
    return write_clip(path, out, fps=fps, preset="ultrafast")


def huge_picture_clip(path: Path, size: tuple[int, int] = (8192, 4352)) -> Path:
    """Two grey frames larger than 8K (a crafted or absurd file)."""
    w, h = size
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "ultrafast"}
        for _ in range(2):
            f = av.VideoFrame(w, h, "yuv420p")
            for plane in f.planes:
                plane.update(bytes([128]) * plane.buffer_size)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def blank_clip(path: Path, size: tuple[int, int], frames: int, fps: float = 30.0) -> Path:
    """``frames`` plain grey frames of ``size`` = (width, height): a clip to pair with a synthetic pose track."""
    w, h = size
    grey = np.full((h, w, 3), 120, np.uint8)
    return write_clip(path, [grey] * frames, fps=fps, preset="ultrafast")


def long_static_clip(path: Path, minutes: float = 10.0, size: tuple[int, int] = (160, 120), fps: float = 30.0,
                     gop: int = 300) -> Path:
    """A long clip that encodes fast: a small still picture with a moving bar (so no frame is a repeat)."""
    w, h = size
    base = cv2.resize(read_frames(n=1)[0], (w, h), interpolation=cv2.INTER_AREA)
    n = int(round(minutes * 60 * fps))
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "ultrafast", "x264-params": f"keyint={gop}:log-level=error"}
        for i in range(n):
            img = base.copy()
            img[:, (i % w)] = 255
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def no_person_clip(path: Path, seconds: float = 2.0, size: tuple[int, int] = (320, 240), fps: float = 30.0) -> Path:
    """An empty treadmill room: a textured wall with a slowly moving belt, no one in view."""
    rng = np.random.default_rng(0)
    w, h = size
    wall = rng.integers(80, 120, size=(h, w, 3), dtype=np.uint8)
    frames = []
    for i in range(int(round(seconds * fps))):
        f = wall.copy()
        f[int(0.8 * h):, :] = 40
        f[int(0.8 * h):, (i * 3) % w::37] = 90
        frames.append(f)
    return write_clip(path, frames, fps=fps)


def two_runners_clip(path: Path, seconds: float = 2.0, fps: float = 30.0, height: int = 426) -> Path:
    """Two runners side by side, as on two treadmills: the sample twice, the right one half a second
    later in the stride. Equal sizes, so nothing but tracking keeps the same runner."""
    n = int(round(seconds * fps))
    lag = 15
    frames = sample_frames(n + lag, max_side=height)
    return write_clip(path, [np.hstack([frames[i], frames[i + lag]]) for i in range(n)], fps=fps)


def panning_clip(path: Path, seconds: float = 2.0, fps: float = 30.0, max_side: int = 640,
                 pan_px_per_s: float = 120.0) -> Path:
    """The sample seen through a window two thirds as wide that slides sideways: a camera panning."""
    frames = sample_frames(int(round(seconds * fps)), max_side=max_side)
    h, w = frames[0].shape[:2]
    out_w = int(w * 2 / 3) // 2 * 2
    out = []
    for i, f in enumerate(frames):
        x0 = int(np.clip((w - out_w) / 2 + (i / fps - seconds / 2) * pan_px_per_s, 0, w - out_w))
        out.append(np.ascontiguousarray(f[:, x0:x0 + out_w]))
    return write_clip(path, out, fps=fps)


def dark_clip(path: Path, seconds: float = 2.0, gain: float = 0.08, fps: float = 30.0, max_side: int = 320) -> Path:
    """The sample filmed in near darkness: brightness times ``gain`` plus sensor noise."""
    rng = np.random.default_rng(3)
    out = []
    for f in sample_frames(int(round(seconds * fps)), max_side):
        noisy = f.astype(np.float32) * gain + rng.normal(0, 2.0, f.shape)
        out.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return write_clip(path, out, fps=fps)


def shared_excerpt(src: Path, path: Path, start_s: float, seconds: float, max_side: int = 384) -> Path:
    """``seconds`` of a clip from ``start_s``, shrunk to ``max_side``, at its own frame rate."""
    with av.open(str(src)) as c:
        st = c.streams.video[0]
        fps = float(st.average_rate or 30)
        frames = []
        for f in c.decode(st):
            t = float(f.pts * st.time_base) if f.pts is not None else len(frames) / fps
            if t < start_s:
                continue
            if len(frames) >= seconds * fps:
                break
            rgb = f.to_ndarray(format="rgb24")
            h, w = rgb.shape[:2]
            s = min(1.0, max_side / max(h, w))
            frames.append(cv2.resize(rgb, (int(w * s) // 2 * 2, int(h * s) // 2 * 2), interpolation=cv2.INTER_AREA))
    return write_clip(path, frames, fps=fps)
