"""Shared fixtures: the sample clip, test clips made from it, and ../shared when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.clipmaker import ROOT, SAMPLE, excerpt


def shared_dir() -> Path | None:
    """``../shared`` beside the repo (or $GAITSCOPE_SHARED); None when absent."""
    d = Path(os.environ.get("GAITSCOPE_SHARED", ROOT.parent / "shared"))
    return d if (d / "clips").is_dir() else None


@pytest.fixture(scope="session")
def shared() -> Path:
    d = shared_dir()
    if d is None:
        pytest.skip("../shared (development clips and labels) is not present")
    return d


@pytest.fixture(scope="session")
def sample() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory) -> Path:
    """Four seconds of the sample (120 frames), enough for several strides."""
    return excerpt(tmp_path_factory.mktemp("clips") / "short.mp4", 4.0)


# Figures that tests measure (latency, export time...) are printed at the end of the run,
# so that CI's log shows them without -s.
_FIGURES: list[str] = []


@pytest.fixture
def report_figure():
    """``report_figure("text")`` keeps a measured figure for the end-of-run summary."""
    return _FIGURES.append


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("measured figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
