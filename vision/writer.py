"""Write browser-playable H.264 MP4 (yuv420p, faststart) with PyAV, atomically.

The file appears under its final name only when complete: frames go to a
temporary name beside it, renamed on success and removed on any failure
(a full disk included).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from metrics.errors import GaitscopeError

__all__ = ["VideoWriter", "ExportError"]

#: Time base of timed (variable frame rate) exports: the MPEG 90 kHz clock.
_TIME_BASE = Fraction(1, 90000)


class ExportError(GaitscopeError):
    """An export could not be written (disk full, permission, bad size)."""


class VideoWriter:
    """Context manager writing RGB frames to an H.264 MP4.

    Parameters
    ----------
    path : final file name (.mp4).
    fps : playback frame rate (float; stored as an exact fraction).
    size : (width, height); frames of another size are resized. Must be even.
    crf : x264 quality (lower = better; 18-23 is visually good).
    gop : keyframe interval in frames; 1 gives an all-intra proxy that seeks instantly.
    preset : x264 speed preset.
    timestamps : when True every :meth:`write` gives the frame's time ``t_s`` (seconds from the
        first frame) and the file keeps those times (variable frame rate); ``fps`` is then only
        a hint for the encoder's rate control.
    threads : encoder threads (None: the encoder decides).

    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.mp4")
    >>> with VideoWriter(p, 30, (64, 48)) as w:
    ...     for i in range(3): w.write(np.zeros((48, 64, 3), np.uint8))
    >>> os.path.getsize(p) > 0
    True
    """

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int], crf: int = 20,
                 gop: int | None = None, preset: str = "veryfast", timestamps: bool = False,
                 threads: int | None = None):
        self.path = Path(path)
        w, h = int(size[0]) // 2 * 2, int(size[1]) // 2 * 2
        if w < 2 or h < 2:
            raise ExportError(f"cannot write a {size[0]}x{size[1]} video")
        self.size = (w, h)
        self.tmp = self.path.with_name(f".{self.path.stem}.part{self.path.suffix}")
        rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(30)
        # frames are converted RGB -> YUV with BT.601 limited-range coefficients; say so in the stream
        x264_params = "colorprim=smpte170m:transfer=smpte170m:colormatrix=smpte170m"
        if gop == 1:
            x264_params += ":keyint=1:min-keyint=1:scenecut=0"
        opts = {"crf": str(crf), "preset": preset, "movflags": "+faststart", "x264-params": x264_params}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._c = av.open(str(self.tmp), "w", format="mp4", options={"movflags": "+faststart"})
            s = self._c.add_stream("libx264", rate=rate)
            s.width, s.height, s.pix_fmt = w, h, "yuv420p"
            s.options = {k: v for k, v in opts.items() if k != "movflags"}
            if gop:
                s.codec_context.gop_size = int(gop)
            if timestamps:
                s.codec_context.time_base = _TIME_BASE
            if threads:
                s.codec_context.thread_count = int(threads)
            s.thread_type = "AUTO"
            self._s = s
        except (OSError, av.error.FFmpegError) as exc:
            self._cleanup()
            raise ExportError(f"cannot create {self.path.name}: {exc}") from None
        self.frames = 0
        self.timestamps = bool(timestamps)
        self._last_pts = -1

    def write(self, rgb: np.ndarray, t_s: float | None = None) -> None:
        """Append one RGB frame (H, W, 3) uint8; ``t_s`` is required when ``timestamps`` is on."""
        if self.timestamps and t_s is None:
            self.abort()
            raise ExportError(f"{self.path.name}: a frame time is needed for every frame of a timed export")
        try:
            rgb = np.ascontiguousarray(rgb)
            if (rgb.shape[1], rgb.shape[0]) != self.size:
                rgb = cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA)
            # cv2's BT.601 conversion is several times faster than swscale's and gives the same values
            frame = av.VideoFrame.from_ndarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
            if self.timestamps:
                pts = max(int(round(float(t_s) / _TIME_BASE)), self._last_pts + 1)
                frame.pts, frame.time_base = pts, _TIME_BASE
                self._last_pts = pts
            for packet in self._s.encode(frame):
                self._c.mux(packet)
            self.frames += 1
        except (OSError, av.error.FFmpegError) as exc:
            self.abort()
            raise _export_error(self.path, exc) from None

    def close(self) -> Path:
        """Flush, close and move the file into place. Returns the final path."""
        try:
            for packet in self._s.encode():
                self._c.mux(packet)
            self._c.close()
            if self.frames == 0:
                raise ExportError(f"{self.path.name}: no frames to write")
            os.replace(self.tmp, self.path)
        except (OSError, av.error.FFmpegError) as exc:
            self._cleanup()
            raise _export_error(self.path, exc) from None
        except ExportError:
            self._cleanup()
            raise
        return self.path

    def abort(self) -> None:
        """Stop and remove the partial file."""
        try:
            self._c.close()
        except Exception:  # noqa: BLE001 - closing a broken container; the file is removed next
            pass
        self._cleanup()

    def _cleanup(self) -> None:
        try:
            self.tmp.unlink(missing_ok=True)
        except OSError:
            pass

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _export_error(path: Path, exc: Exception) -> ExportError:
    text = str(exc)
    if "No space" in text or getattr(exc, "errno", None) == 28:
        return ExportError(f"the disk is full while writing {path.name}; free some space and export again.")
    return ExportError(f"could not write {path.name}: {text}")
