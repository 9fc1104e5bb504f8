"""``gaitscope bench``: the synthetic slow-motion clip and the table (fast rows only here)."""

from __future__ import annotations

import cv2
import numpy as np

from tests.clipmaker import SAMPLE, read_frames
from ui.bench_clips import ClipSpec, make_clip
from ui.cli import main
from vision.video import iter_frames, probe


def test_made_clip_has_the_asked_rate_size_and_cross_faded_frames(tmp_path):
    spec = ClipSpec(fps=120.0, seconds=0.5, short_side_px=240, crf=12, noise_sd=0.0)
    out = make_clip(SAMPLE, tmp_path / "slow.mp4", spec)
    info = probe(out)
    assert info.frames == 60
    assert abs(info.fps - 120.0) < 0.01 and abs(info.duration_s - 0.5) < 0.01
    assert min(info.width, info.height) == 240
    src = [cv2.resize(f, (info.width, info.height), interpolation=cv2.INTER_LINEAR).astype(float)
           for f in read_frames(SAMPLE, n=2)]
    made = {f.index: f.rgb.astype(float) for f in iter_frames(info, 0, 5)}
    # 30 fps source, 120 fps clip: frame 4 is source frame 1, frame 2 the half-way blend of source 0 and 1
    assert np.abs(made[4] - src[1]).mean() < 3.0
    assert np.abs(made[2] - (src[0] + src[1]) / 2).mean() < 3.0
    assert np.abs(made[2] - src[0]).mean() > np.abs(made[2] - (src[0] + src[1]) / 2).mean()


def test_bench_prints_the_machine_and_a_row(capsys):
    assert main(["bench", str(SAMPLE), "--only", "decode", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "machine:" in out and "cores available" in out and "model: full" in out
    row = next(line for line in out.splitlines() if line.startswith("decode only"))
    frames, fps = row.split()[-6:-4]
    assert int(frames) == 360 and float(fps) > 0


def test_bench_refuses_unknown_rows(capsys):
    assert main(["bench", str(SAMPLE), "--only", "decode,warp-drive"]) == 2
    assert "warp-drive" in capsys.readouterr().err


def test_side_by_side_naive_loops_run_one_per_core_and_give_the_ceiling_ratio(tmp_path, capsys):
    from tests.clipmaker import excerpt
    from vision.parallel import default_workers

    clip = excerpt(tmp_path / "short.mp4", seconds=2.0)
    assert main(["bench", str(clip), "--only", "naive,naive2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("naive loops side by side"))
    frames, fps = row.split()[-6:-4]
    assert int(frames) == 60 * default_workers() and float(fps) > 0  # every core ran the whole clip
    ratio = next(line for line in out.splitlines() if "naive side by side / naive" in line)
    assert 0 < float(ratio.split()[6]) < default_workers() + 0.5
