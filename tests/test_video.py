"""Video input: upright frames and true timestamps for what phones produce."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.errors import VideoError
from tests.clipmaker import read_frames, write_clip
from vision.video import iter_frames, probe

N = 24


@pytest.fixture(scope="module")
def frames():
    # every 3rd frame: motion between frames, so a wrong order or index would show
    return read_frames(n=3 * N, step=3)


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(float) - b.astype(float)).mean())


def test_sample_probe(sample):
    info = probe(sample)
    assert (info.width, info.height) == (720, 1280)
    assert info.frames == 360
    assert info.fps == pytest.approx(30.0, abs=1e-6)
    assert info.duration_s == pytest.approx(12.0, abs=0.05)
    assert not info.variable_frame_rate and info.rotation_deg == 0
    t = info.times_s()
    assert t[0] == 0 and t[-1] == pytest.approx(359 / 30)


@pytest.mark.parametrize(
    "codec,pix_fmt,fmt,suffix,rotation",
    [
        ("libx264", "yuv420p", "mp4", ".mp4", 90),
        ("libx265", "yuv420p", "mov", ".mov", -90),
        ("libx265", "yuv420p10le", "mp4", ".m4v", 90),
        ("libx264", "yuv420p", "mp4", ".mp4", 180),
    ],
)
def test_rotated_phone_clip_comes_out_upright(tmp_path, frames, codec, pix_fmt, fmt, suffix, rotation):
    path = write_clip(tmp_path / f"rot{suffix}", frames, codec=codec, pix_fmt=pix_fmt, rotation_deg=rotation,
                      container_format=fmt)
    info = probe(path)
    assert (info.width, info.height) == (720, 1280), "width/height are of the upright picture"
    assert info.rotation_deg == rotation % 360
    got = list(iter_frames(info))
    assert [f.index for f in got] == list(range(N))
    for f, ref in zip(got, frames):
        assert f.rgb.shape == ref.shape
        assert _diff(f.rgb, ref) < 6.0  # lossy re-encode, same picture
    # and not merely similar to a neighbouring frame: frame 5 matches 5 better than 6
    assert _diff(got[5].rgb, frames[5]) < _diff(got[5].rgb, frames[6])


def test_variable_frame_rate_uses_each_frames_timestamp(tmp_path, frames):
    rng = np.random.default_rng(0)
    dt = rng.choice([1 / 60, 1 / 30, 1 / 24, 0.05], size=N)
    pts = np.concatenate([[0.0], np.cumsum(dt[:-1])])
    info = probe(write_clip(tmp_path / "vfr.mp4", frames, pts_s=list(pts)))
    assert info.variable_frame_rate
    got = list(iter_frames(info))
    np.testing.assert_allclose([f.t_s for f in got], pts, atol=1e-4)
    np.testing.assert_allclose(info.times_s(), pts, atol=1e-4)


def test_constant_rate_is_not_flagged_vfr(tmp_path, frames):
    info = probe(write_clip(tmp_path / "cfr.mp4", frames, fps=30000 / 1001))
    assert not info.variable_frame_rate
    assert info.fps == pytest.approx(29.97, abs=0.01)


def test_slow_motion_tag_and_user_capture_rate(tmp_path, frames):
    path = write_clip(tmp_path / "slowmo.mp4", frames, fps=30, metadata={"com.android.capture.fps": "240.000000"})
    tagged = probe(path)
    assert tagged.capture_fps == 240 and tagged.capture_fps_source == "tag"
    assert tagged.times_s()[8] == pytest.approx(8 / 240)  # real-world time, not playback time
    assert tagged.duration_s == pytest.approx(N / 240, rel=0.01)
    user = probe(path, capture_fps=120)
    assert user.capture_fps_source == "user"
    assert [f.t_s for f in iter_frames(user, 0, 3)] == pytest.approx([0, 1 / 120, 2 / 120])
    plain = probe(write_clip(tmp_path / "plain.mp4", frames, fps=30))
    assert plain.capture_fps == pytest.approx(30) and plain.times_s()[8] == pytest.approx(8 / 30)


@pytest.mark.parametrize("threads", [True, False])
def test_seek_to_middle_gives_the_same_frames_as_decoding_from_start(sample, threads):
    # the pre-roll after a seek skips non-reference frames: what comes out must not change
    info = probe(sample)
    from_start = {f.index: f.rgb for f in iter_frames(info, 0, 200, threads=threads)}
    for a, b in ((130, 140), (181, 200)):
        seeked = list(iter_frames(info, a, b, threads=threads))
        assert [f.index for f in seeked] == list(range(a, b))
        for f in seeked:
            assert np.array_equal(f.rgb, from_start[f.index])


def test_seek_in_hevc_with_b_frames_is_bit_identical(tmp_path, frames):
    path = write_clip(tmp_path / "hevc.mp4", frames, codec="libx265", pix_fmt="yuv420p10le")
    info = probe(path)
    from_start = {f.index: f.rgb for f in iter_frames(info)}
    seeked = list(iter_frames(info, 15, None, threads=False))
    assert [f.index for f in seeked] == list(range(15, N))
    assert all(np.array_equal(f.rgb, from_start[f.index]) for f in seeked)


def test_max_side_shrinks_keeping_aspect(sample):
    f = next(iter(iter_frames(probe(sample), 0, 1, max_side=640)))
    assert f.rgb.shape == (640, 360, 3)


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "empty"),
        (bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)), "not a video"),
        (b"%PDF-1.4\n" + b"x" * 2000, "not a video"),
    ],
)
def test_bad_files_raise_clear_video_errors(tmp_path, content, message):
    p = tmp_path / "clip.mp4"
    p.write_bytes(content)
    with pytest.raises(VideoError, match=message):
        probe(p)


def test_missing_file(tmp_path):
    with pytest.raises(VideoError, match="no such file"):
        probe(tmp_path / "nope.mp4")


def test_truncated_file_decodes_what_it_can(tmp_path, sample):
    data = sample.read_bytes()
    # faststart copy (moov first) so that the cut keeps the index: the common phone case
    frames = read_frames(n=90)
    full = write_clip(tmp_path / "full.mp4", frames)
    cut = tmp_path / "cut.mp4"
    raw = full.read_bytes()
    cut.write_bytes(raw[: len(raw) // 2])
    try:
        info = probe(cut)
    except VideoError as exc:  # moov at the end: nothing indexable, must still be a clear message
        assert "damaged" in str(exc) or "not a video" in str(exc)
        return
    got = list(iter_frames(info))
    assert 0 < len(got) < 90
    assert len(data) > 0
