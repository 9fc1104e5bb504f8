"""metrics/ is pure numpy/scipy: importing all of it must not pull in video, pose or UI libraries."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import metrics

FORBIDDEN = ("cv2", "av", "mediapipe", "streamlit")


def _modules() -> list[str]:
    return sorted(f"metrics.{m.name}" for m in pkgutil.iter_modules([str(Path(metrics.__file__).parent)]))


def _heavy_after_importing(mods: list[str]) -> str:
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        f"print(','.join(sorted(n for n in {FORBIDDEN!r} if n in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(metrics.__file__).parents[1])
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_importing_every_metrics_module_leaves_heavy_libraries_out():
    mods = _modules()
    assert {"metrics.gait", "metrics.kinematics", "metrics.summary", "metrics.edits"} <= set(mods)
    assert _heavy_after_importing(mods) == ""


def test_the_check_sees_a_heavy_import():
    assert "av" in _heavy_after_importing(["vision.video"]).split(",")
