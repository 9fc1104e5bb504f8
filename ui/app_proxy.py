"""The player's proxy: a small all-intra H.264 copy of the clip that a browser seeks to any frame at once.

Frame ``i`` of the proxy is frame ``i`` of the source (decode order, upright), shown for
``1 / fps`` seconds from ``i / fps``; the player seeks to ``(i + 0.5) / fps``. Long clips get
a smaller picture and a short GOP so the file stays small enough to hold in the browser.
"""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vision.video import VideoInfo, iter_frames, prefetch, probe
from vision.writer import VideoWriter

__all__ = ["ProxySpec", "proxy_spec", "make_proxy", "proxy_meta", "PROXY_NAME"]

PROXY_NAME = "proxy.mp4"
_META_NAME = "proxy.json"


@dataclass(frozen=True)
class ProxySpec:
    """How the proxy is encoded: longer side in pixels, x264 CRF, keyframe interval."""

    max_side: int
    crf: int
    gop: int


def proxy_spec(frames: int) -> ProxySpec:
    """Picture size and GOP for a clip of ``frames`` frames (about 10-150 MB in the browser).

    >>> proxy_spec(360)
    ProxySpec(max_side=960, crf=23, gop=1)
    >>> proxy_spec(20000).gop > 1
    True
    """
    if frames <= 2400:
        return ProxySpec(960, 23, 1)
    if frames <= 7200:
        return ProxySpec(720, 25, 2)
    return ProxySpec(640, 26, 4)


def make_proxy(info: VideoInfo, folder: Path, on_progress: Callable[[int, int], bool | None] | None = None) -> dict:
    """Write ``proxy.mp4`` and ``proxy.json`` into ``folder``; returns the metadata.

    ``on_progress(done, total)`` may return False to stop: the partial file is removed and
    an empty dict returned.
    """
    spec = proxy_spec(info.frames)
    path = Path(folder) / PROXY_NAME
    written = 0
    writer = None
    try:
        with closing(prefetch(iter_frames(info, max_side=spec.max_side))) as frames:  # decoded beside the encoder
            for frame in frames:
                if writer is None:
                    h, w = frame.rgb.shape[:2]
                    writer = VideoWriter(path, info.fps, (w, h), crf=spec.crf, gop=spec.gop, preset="veryfast")
                writer.write(frame.rgb)
                written += 1
                if on_progress and written % 10 == 0 and on_progress(written, info.frames) is False:
                    writer.abort()
                    writer = None
                    return {}
        if writer is None:
            return {}
        writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    pinfo = probe(path)
    meta = {"frames": pinfo.frames, "fps": pinfo.fps, "width": pinfo.width, "height": pinfo.height,
            "gop": spec.gop, "source_frames": info.frames}
    tmp = Path(folder) / f".{_META_NAME}.part"
    tmp.write_text(json.dumps(meta), encoding="utf-8")
    tmp.replace(Path(folder) / _META_NAME)
    return meta


def proxy_meta(folder: Path) -> dict | None:
    """The proxy's metadata, or None when there is no complete proxy in ``folder``."""
    folder = Path(folder)
    if not (folder / PROXY_NAME).is_file():
        return None
    try:
        return json.loads((folder / _META_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
