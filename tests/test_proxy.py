"""The player's proxy: frame i of the proxy is frame i of the clip; stopping it leaves no file."""

from __future__ import annotations

import numpy as np
import pytest

from ui.app_proxy import PROXY_NAME, make_proxy, proxy_meta, proxy_spec
from vision.video import iter_frames, probe


def _grey(rgb: np.ndarray, size: tuple[int, int] = (64, 112)) -> np.ndarray:
    import cv2

    return cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA).astype(float)


@pytest.mark.slow
def test_proxy_frames_match_the_clip_frame_for_frame(tmp_path, short_clip):
    info = probe(short_clip)
    meta = make_proxy(info, tmp_path)
    assert meta == proxy_meta(tmp_path)
    assert meta["frames"] == meta["source_frames"] == info.frames
    assert max(meta["width"], meta["height"]) == min(proxy_spec(info.frames).max_side, max(info.width, info.height))
    src = [_grey(f.rgb) for f in iter_frames(info)]
    pinfo = probe(tmp_path / PROXY_NAME)
    prx = [_grey(f.rgb) for f in iter_frames(pinfo)]
    assert len(prx) == len(src)
    # each proxy frame is nearer its own source frame than the ones before and after it (the runner moves)
    for i in range(1, len(src) - 1, 7):
        d = [np.abs(prx[i] - src[j]).mean() for j in (i - 1, i, i + 1)]
        assert d[1] < min(d[0], d[2]), (i, d)


def test_stopping_the_proxy_leaves_no_file(tmp_path, short_clip):
    info = probe(short_clip)
    seen = []

    def progress(done, total):
        seen.append(done)
        return done < 30

    assert make_proxy(info, tmp_path, on_progress=progress) == {}
    assert seen[-1] == 30
    assert proxy_meta(tmp_path) is None and list(tmp_path.iterdir()) == []
