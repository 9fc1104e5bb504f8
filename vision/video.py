"""Video in and out with PyAV: upright frames, each with its own real-world timestamp.

Phones record variable frame rate, tag portrait clips with a rotation, and store
slow motion captured at 120/240 fps for playback at 30. Here:

* every frame's time comes from its own presentation timestamp, never ``index / fps``;
* frames are rotated upright from the stream's display matrix;
* ``capture_fps`` (given by the user, or read from Android's ``com.android.capture.fps``
  tag) rescales time to the real world: ``t_real = t_file * fps_file / capture_fps``;
* frame numbers are 0-based in decode (output) order.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from metrics.errors import VideoError
from vision.bounded import call_bounded

__all__ = ["VideoInfo", "Frame", "probe", "iter_frames", "prefetch", "Prefetched", "MAX_PIXELS", "MAX_FILE_BYTES", "MAX_FRAMES"]

#: Largest picture accepted (8K UHD). Bigger streams are refused before decoding.
MAX_PIXELS = 7680 * 4320
#: Largest file accepted (2 GiB).
MAX_FILE_BYTES = 2 * 1024**3
#: Most frames accepted (35 min at 240 fps, 4.6 h at 30 fps): bounds the memory of the index.
MAX_FRAMES = 500_000
#: Wall-clock bound on reading a file's index: a floor plus a rate per GiB of file.
PROBE_TIMEOUT_S = 30.0
PROBE_TIMEOUT_S_PER_GIB = 60.0
#: Relative spread of frame intervals above which a clip counts as variable frame rate.
_VFR_SPREAD = 0.05


@dataclass(frozen=True)
class VideoInfo:
    """What a clip is, read from its container and packet timestamps.

    ``width``/``height`` are of the upright picture. ``fps`` is the file's mean rate
    (frames / span of timestamps); ``capture_fps`` the real rate it was filmed at
    (equal to ``fps`` unless slow motion). ``time_scale`` multiplies file time into
    real time. ``pts`` are the sorted presentation timestamps (stream time base)
    of all frames, so that frame ``i`` has ``pts[i]``.
    """

    path: str
    width: int
    height: int
    frames: int
    duration_s: float
    fps: float
    capture_fps: float
    rotation_deg: int
    variable_frame_rate: bool
    codec: str
    pix_fmt: str
    time_base: float
    pts: tuple
    capture_fps_source: str = "file"
    truncated: bool = False

    @property
    def time_scale(self) -> float:
        return self.fps / self.capture_fps if self.capture_fps > 0 else 1.0

    def times_s(self) -> np.ndarray:
        """Real-world time of every frame, seconds from the first frame."""
        pts = np.asarray(self.pts, dtype=float)
        return (pts - pts[0]) * self.time_base * self.time_scale if len(pts) else pts

    def as_json(self) -> dict:
        """The ``video`` block of analysis.json."""
        return {
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "duration_s": round(self.duration_s, 4),
            "fps": round(self.fps, 4),
            "capture_fps": round(self.capture_fps, 4),
            "rotation_deg": self.rotation_deg,
            "variable_frame_rate": self.variable_frame_rate,
            "codec": self.codec,
            "time_scale": round(self.time_scale, 6),
            "capture_fps_source": self.capture_fps_source,
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class Frame:
    index: int
    t_s: float
    rgb: np.ndarray  # (H, W, 3) uint8, upright


#: First bytes of common files that are not videos -> what to call them.
_NOT_VIDEO_MAGIC = (
    (b"%PDF", "a PDF document"), (b"\x89PNG", "a PNG picture"), (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"), (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"BM", "a BMP picture"), (b"ID3", "an MP3 sound file"), (b"fLaC", "a FLAC sound file"),
    (b"OggS", "an Ogg sound file"), (b"\x7fELF", "a program"), (b"MZ", "a program"),
    (b"II*\x00", "a TIFF picture"), (b"MM\x00*", "a TIFF picture"), (b"SQLite format 3", "a database"),
)
#: ISO-BMFF brands of still pictures (iPhone HEIC photos, AVIF) that look like MP4 files.
_PICTURE_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")
#: Demuxers that read still pictures rather than videos.
_PICTURE_FORMATS = ("image2", "gif", "webp_pipe", "apng")


def _not_a_video(head: bytes) -> str | None:
    """What a file is when its first bytes show it is not a video (None if it may be one)."""
    for magic, kind in _NOT_VIDEO_MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return "a WebP picture" if head[8:12] == b"WEBP" else "a WAV sound file"
    if head[4:8] == b"ftyp" and head[8:12] in _PICTURE_BRANDS:
        return "a HEIC/AVIF photo"
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return "a web page"
    if head and all(32 <= c < 127 or c in b"\t\r\n" for c in head):
        return "a text file"
    return None


def _open(path: str | os.PathLike) -> av.container.InputContainer:
    p = Path(path)
    if not p.is_file():
        if p.exists():
            raise VideoError(f"{p.name}: not a file (a folder or a device). Choose the video file itself.")
        raise VideoError(f"{p.name}: no such file. Check the path.")
    size = p.stat().st_size
    if size == 0:
        raise VideoError(f"{p.name}: the file is empty (0 bytes). Copy the clip from the phone again.")
    if size > MAX_FILE_BYTES:
        raise VideoError(
            f"{p.name}: the file is {size / 1024**3:.1f} GB; the limit is 2 GB. Trim the clip to the running part."
        )
    with open(p, "rb") as f:
        head = f.read(512)
    kind = _not_a_video(head)
    if kind is not None:
        raise VideoError(f"{p.name}: this is {kind}, not a video. Choose the clip itself (.mp4 or .mov from the "
                         "phone's camera).")
    try:
        container = av.open(str(p), timeout=30.0)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        if head[4:8] in (b"ftyp", b"mdat", b"wide", b"free", b"moov"):  # an MP4/MOV whose index is missing
            raise VideoError(
                f"{p.name}: the file is cut off or damaged (an MP4/MOV without its index, as an interrupted "
                "copy or upload leaves it), so nothing in it can be read. Copy the clip from the phone again."
            ) from None
        raise VideoError(
            f"{p.name}: not a video gaitscope can read (the content is in no video format it knows). "
            "Export it from the phone as .mp4 or .mov (H.264 or HEVC)."
        ) from None
    if container.format.name in _PICTURE_FORMATS or container.format.name.endswith("_pipe"):
        container.close()
        raise VideoError(f"{p.name}: this is a still picture, not a video. Choose the clip itself.")
    if not container.streams.video:
        audio = bool(container.streams.audio)
        container.close()
        if audio:
            raise VideoError(f"{p.name}: the file has sound only, no picture (an audio recording). "
                             "Choose the video file.")
        raise VideoError(f"{p.name}: the file has no video stream. Choose the video file.")
    return container


def _stream_rotation(stream) -> int | None:
    """Rotation from the stream's display matrix without decoding, if PyAV exposes it."""
    for key in ("rotate",):
        val = stream.metadata.get(key)
        if val is not None:
            try:
                return -int(float(val))
            except ValueError:
                pass
    return None


def _capture_fps_tag(container, stream) -> float | None:
    for md in (stream.metadata, container.metadata):
        for key, val in md.items():
            if key.endswith("capture.fps") or key == "com.apple.quicktime.capture.fps":
                try:
                    v = float(val)
                except ValueError:
                    continue
                if v > 0:
                    return v
    return None


def probe(path: str | os.PathLike, capture_fps: float | None = None) -> VideoInfo:
    """Read a clip's geometry and the timestamp of every frame (demux only, plus one decode).

    The file is read in a child process bounded in time and memory (:mod:`vision.bounded`),
    so a crafted file cannot hang or exhaust the caller; the answer comes back as JSON.

    Raises ``VideoError`` with a message for the user when the file is not a readable video.
    """
    if capture_fps is not None and not (1.0 <= float(capture_fps) <= 2000.0):
        raise VideoError(f"capture frame rate {capture_fps} is not plausible; give the rate the phone filmed at, e.g. 240.")
    p = Path(path)
    try:
        size_gib = p.stat().st_size / 1024**3
    except OSError:
        size_gib = 0.0
    timeout_s = PROBE_TIMEOUT_S + PROBE_TIMEOUT_S_PER_GIB * size_gib
    d = call_bounded(_probe_json, (str(path), capture_fps, timeout_s), timeout_s + 5.0, p.name)
    return VideoInfo(**{**d, "path": str(path), "pts": tuple(int(x) for x in d["pts"])})


def _probe_json(path: str, capture_fps: float | None, timeout_s: float) -> dict:
    return dataclasses.asdict(_probe(path, capture_fps, time.monotonic() + timeout_s))


def _probe(path: str | os.PathLike, capture_fps: float | None, deadline: float) -> VideoInfo:
    container = _open(path)
    name = Path(path).name
    try:
        stream = container.streams.video[0]
        cc = stream.codec_context
        w, h = int(cc.width or 0), int(cc.height or 0)
        if w * h > MAX_PIXELS:
            raise VideoError(f"{name}: {w}x{h} is larger than 8K; export the clip at 4K or less.")
        tb = float(stream.time_base) if stream.time_base else 1 / 90000
        pts = []
        damaged = False
        try:
            for packet in container.demux(stream):
                if packet.size and packet.pts is not None:
                    pts.append(int(packet.pts))
                    if len(pts) > MAX_FRAMES:
                        raise VideoError(f"{name}: the clip has more than {MAX_FRAMES} frames; trim it to the "
                                         "running part (10-60 s is plenty).")
                    if len(pts) % 1024 == 0 and time.monotonic() > deadline:
                        raise VideoError(f"{name}: reading the file took too long, so gaitscope stopped; the file "
                                         "is damaged or not an ordinary video. Export the clip again.")
        except av.error.FFmpegError:
            damaged = True  # damaged tail: keep what demuxed
        pts.sort()
        header_frames = int(stream.frames or 0)
        truncated = bool(damaged or (header_frames and len(pts) < header_frames - 1))
        # one decode for the true picture size and rotation
        try:
            container.seek(0, stream=stream)
        except av.error.FFmpegError:
            pass
        first = None
        try:
            for frame in container.decode(stream):
                first = frame
                break
        except av.error.FFmpegError:
            first = None
        if first is None:
            raise VideoError(f"{name}: no frame could be decoded; the file is damaged or not a video. Copy it again.")
        rot = int(getattr(first, "rotation", 0) or 0) % 360
        w, h = first.width, first.height
        if w * h > MAX_PIXELS:
            raise VideoError(f"{name}: {w}x{h} is larger than 8K; export the clip at 4K or less.")
        if rot in (90, 270):
            w, h = h, w
        n = len(pts)
        if n >= 2:
            span = (pts[-1] - pts[0]) * tb
            d = np.diff(np.asarray(pts, float)) * tb
            fps = (n - 1) / span if span > 0 else float(stream.average_rate or 30)
            med = float(np.median(d)) if len(d) else 0.0
            vfr = bool(med > 0 and (np.percentile(d, 95) - np.percentile(d, 5)) > _VFR_SPREAD * med)
            duration = span + (med if med > 0 else 1 / fps)
        else:
            fps = float(stream.average_rate or 30)
            vfr = False
            duration = 1 / fps
        tag = _capture_fps_tag(container, stream)
        source = "user" if capture_fps else ("tag" if tag else "file")
        cap = float(capture_fps or tag or fps)
        return VideoInfo(
            path=str(path), width=int(w), height=int(h), frames=n, duration_s=float(duration) * (fps / cap),
            fps=float(fps), capture_fps=cap, rotation_deg=rot, variable_frame_rate=vfr,
            codec=cc.name, pix_fmt=str(first.format.name), time_base=tb, pts=tuple(pts),
            capture_fps_source=source, truncated=truncated,
        )
    finally:
        container.close()


def upright(rgb: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Apply a display rotation (counter-clockwise degrees, as PyAV reports it)."""
    k = (rotation_deg // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=k)) if k else rgb


def iter_frames(
    info: VideoInfo,
    start: int = 0,
    stop: int | None = None,
    max_side: int | None = None,
    timeout_s: float | None = None,
    threads: bool = True,
) -> Iterator[Frame]:
    """Yield upright RGB frames ``start <= index < stop`` with real-world times.

    Seeks to the keyframe before ``start`` and decodes forward. ``max_side`` shrinks the
    picture (keeping its aspect) so that its longer side is at most that many pixels.
    Stops quietly at the first undecodable packet of a damaged file: the caller compares
    the count it got with ``info.frames`` to report truncation. ``timeout_s`` bounds
    the wall time spent, as a guard against crafted files. ``threads=False`` decodes
    without frame threads (cheaper for a caller pinned to one core, e.g. a pose worker).
    """
    stop = info.frames if stop is None else min(stop, info.frames)
    if start >= stop:
        return
    index_of = {p: i for i, p in enumerate(info.pts)}
    times = info.times_s()
    container = _open(info.path)
    t0 = time.monotonic()
    try:
        stream = container.streams.video[0]
        if threads:
            stream.thread_type = "AUTO"
        if start > 0:
            container.seek(int(info.pts[start]), stream=stream, backward=True, any_frame=False)
        out_w = out_h = None
        next_index = 0
        try:
            for frame in _decode(container, stream, index_of, start):
                if timeout_s is not None and time.monotonic() - t0 > timeout_s:
                    raise VideoError(f"{Path(info.path).name}: decoding took longer than {timeout_s:.0f} s; the file may be damaged.")
                i = index_of.get(frame.pts, None) if frame.pts is not None else None
                if i is None:  # frame without a known pts: count on from the previous one
                    i = next_index
                next_index = i + 1
                if i < start:
                    continue
                if i >= stop:
                    break
                if out_w is None:
                    out_w, out_h = _out_size(frame.width, frame.height, max_side)
                if (out_w, out_h) != (frame.width, frame.height):
                    rgb = frame.to_ndarray(format="rgb24", width=out_w, height=out_h)
                else:
                    rgb = frame.to_ndarray(format="rgb24")
                yield Frame(i, float(times[i]), upright(rgb, info.rotation_deg))
        except av.error.FFmpegError:
            return
    finally:
        container.close()


def _decode(container, stream, index_of: dict, start: int) -> Iterator[av.VideoFrame]:
    """Decoded frames from the current position; frames before ``start`` that no other frame
    refers to (non-reference B-frames) are not decoded at all.

    After a seek the decoder must run from the keyframe before ``start``; skipping the
    frames nothing depends on halves that run for a typical H.264/HEVC stream with
    B-frames, and leaves every frame from ``start`` on bit-identical.
    """
    ctx = stream.codec_context
    skipping = False
    for packet in container.demux(stream):
        if start > 0:
            i = index_of.get(packet.pts) if packet.pts is not None else None
            skip = i is not None and i < start
            if skip != skipping:
                ctx.skip_frame = "NONREF" if skip else "DEFAULT"
                skipping = skip
        yield from packet.decode()


def _out_size(w: int, h: int, max_side: int | None) -> tuple[int, int]:
    if not max_side or max(w, h) <= max_side:
        return w, h
    s = max_side / max(w, h)
    return max(2, int(round(w * s / 2)) * 2), max(2, int(round(h * s / 2)) * 2)


_END = object()


class Prefetched:
    """Frames decoded ahead in a background thread, which starts at once (PyAV releases the
    GIL while it decodes); iterate it, then :meth:`close` it.

    The decoder thread inherits the CPU affinity of the thread that makes it. Starting it
    before a slow set-up (a model being loaded) lets the decoder run its seek pre-roll in
    the meantime. At most ``depth`` frames wait in memory.
    """

    def __init__(self, frames: Iterator[Frame], depth: int = 6):
        self._q: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._work, args=(frames,), name="gaitscope-decode", daemon=True)
        self._thread.start()

    def _work(self, frames: Iterator[Frame]) -> None:
        try:
            for fr in frames:
                if not self._put(fr):
                    return
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed over to the consuming thread
            self._put(exc)
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> "Prefetched":
        return self

    def __next__(self) -> Frame:
        if self._done:
            raise StopIteration
        item = self._q.get()
        if item is _END or isinstance(item, BaseException):
            self._done = True
            if item is _END:
                raise StopIteration
            raise item
        return item

    def close(self) -> None:
        """Stop the decoder thread and wait for it (frames not taken are dropped)."""
        self._done = True
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._q.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()


def prefetch(frames: Iterator[Frame], depth: int = 6) -> Prefetched:
    """``frames`` decoded ahead in a background thread: see :class:`Prefetched`."""
    return Prefetched(frames, depth)
