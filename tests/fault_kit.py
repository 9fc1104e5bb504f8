"""Helpers for the fault tests: a child process that dies on cue, a small disk, a synthetic analysis.

* :func:`run_child` runs a Python snippet in a fresh interpreter (repo on the path) and
  returns the finished process; snippets kill themselves with ``SIGKILL`` at the moment
  under test, exactly as a crash or ``kill -9`` would.
* :func:`small_disk_command` wraps a command so that it runs with a small tmpfs mounted
  on a folder (a disk that fills up), in a private mount namespace when the kernel lets an
  unprivileged user make one (``unshare -rm``), else directly as root; None when neither works.
* :func:`synthetic_source` pairs a real clip with a synthetic pose track of the same length
  and runs the gait measures on it, so exports can be made without the pose model.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.clipmaker import ROOT

__all__ = ["run_child", "small_disk_command", "synthetic_source", "KILL_SELF"]

#: Python source of a function ``kill_self()`` that ends the process as ``kill -9`` would.
KILL_SELF = "import os, signal\ndef kill_self():\n    os.kill(os.getpid(), signal.SIGKILL)\n"


def run_child(source: str, *args: str, timeout_s: float = 300, prefix: list[str] | None = None
              ) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GLOG_minloglevel": "2"}
    cmd = [*(prefix or []), sys.executable, "-c", textwrap.dedent(source), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=ROOT, env=env)


def small_disk_command(mount_point: Path, size_kb: int) -> list[str] | None:
    """A command prefix mounting a ``size_kb`` tmpfs on ``mount_point`` for the command that follows."""
    mount = f"mount -t tmpfs -o size={int(size_kb)}k gaitscope-test-disk \"$0\" && exec \"$@\""
    candidates = []
    if shutil.which("unshare"):
        candidates.append(["unshare", "-rm", "sh", "-c", mount, str(mount_point)])
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare"):
        candidates.append(["unshare", "-m", "sh", "-c", mount, str(mount_point)])
    for prefix in candidates:
        probe = subprocess.run([*prefix, "sh", "-c", "df -k \"$0\" | tail -1", str(mount_point)],
                               capture_output=True, text=True)
        if probe.returncode == 0 and "gaitscope-test-disk" in probe.stdout:
            return prefix
    return None


def synthetic_source(clip: Path, seconds: float = 3.0):
    """``(ExportSource, GaitResult)`` for ``clip`` with a synthetic runner of the clip's length and size."""
    from metrics import analyze_gait
    from tests.synthetic import synth_run
    from ui.export import ExportSource
    from vision.video import probe

    info = probe(clip)
    track, _ = synth_run(duration_s=info.frames / info.fps, fps=info.fps, size=(info.width, info.height),
                         leg_px=0.35 * info.height)
    track = track[: info.frames].replace(t_s=info.times_s())
    gait = analyze_gait(track)
    return ExportSource(info, gait.track_clean, tuple(gait.strikes), dict(gait.runner), dict(gait.summary),
                        float(gait.tilt_deg), tuple(gait.warnings)), gait
