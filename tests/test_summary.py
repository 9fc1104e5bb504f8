"""Clip summary from strike records with planted timing and values."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.summary import cadence_spm, fill_timing, per_foot_stats, summarize_strikes


def _run(step_s: float, n: int, contact_s: float, t0: float = 0.1, first: str = "left") -> list[dict]:
    feet = ("left", "right") if first == "left" else ("right", "left")
    return [{"id": str(i), "foot": feet[i % 2], "ic_time_s": t0 + i * step_s,
             "toe_off_time_s": t0 + i * step_s + contact_s, "rejected": False} for i in range(n)]


@pytest.mark.parametrize("spm", [150.0, 172.0, 190.0])
def test_known_cadence(spm):
    s = _run(60.0 / spm, 20, 0.22)
    fill_timing(s)
    assert cadence_spm(s) == pytest.approx(spm, rel=1e-9)


def test_cadence_robust_to_missed_and_rejected_strikes():
    s = _run(0.35, 24, 0.2)
    del s[7], s[15]          # two missed contacts: 0.7 s gaps, same foot on both sides
    s[3]["rejected"] = True  # and one rejected: out of the timing neighbours
    fill_timing(s)
    assert cadence_spm(s) == pytest.approx(60 / 0.35)
    # without the step-time band a wrongly-sided strike would still not pull it far
    s2 = _run(0.35, 16, 0.2)
    s2[5]["foot"] = s2[4]["foot"]
    fill_timing(s2)
    assert cadence_spm(s2) == pytest.approx(60 / 0.35)


def test_cadence_falls_back_to_stride_time_when_one_foot_only():
    s = [x for x in _run(0.3, 20, 0.2) if x["foot"] == "left"]
    fill_timing(s)
    assert all(x["step_time_ms"] is None for x in s)
    assert cadence_spm(s) == pytest.approx(200.0)  # stride 0.6 s = two steps of 0.3 s
    assert cadence_spm(s[:1]) is None


def test_timing_fields():
    s = _run(0.32, 6, 0.24)
    fill_timing(s)
    assert s[0]["step_time_ms"] is None and s[0]["flight_time_ms"] is None
    for x in s[1:]:
        assert x["step_time_ms"] == pytest.approx(320.0)
        assert x["flight_time_ms"] == pytest.approx(80.0)
        assert x["contact_time_ms"] == pytest.approx(240.0)


def test_per_foot_stats_and_asymmetry():
    s = _run(0.33, 10, 0.25)
    for x in s:
        x["shin_angle_deg"] = 8.0 if x["foot"] == "left" else 4.0
        x["overstride"] = 0.2 if x["foot"] == "left" else 0.1
        x["strike_pattern"] = "rearfoot" if x["foot"] == "left" else "midfoot"
        x["toe_off_time_s"] = x["ic_time_s"] + (0.27 if x["foot"] == "left" else 0.23)
    s[0]["shin_angle_deg"] = 30.0
    s[0]["rejected"] = True  # kept in the list, out of the summary
    fill_timing(s)
    summ = summarize_strikes(s)
    left = summ["per_foot"]["left"]
    assert left["shin_angle_deg"] == {"mean": 8.0, "sd": 0.0, "n": 4}
    assert summ["per_foot"]["right"]["shin_angle_deg"]["mean"] == 4.0
    assert summ["asymmetry_diff"]["shin_angle_deg"] == pytest.approx(4.0)
    assert summ["asymmetry_diff"]["overstride"] == pytest.approx(0.1)
    assert summ["asymmetry_pct"]["contact_time_ms"] == pytest.approx(100 * 40 / 250)
    assert "shin_angle_deg" not in summ["asymmetry_pct"]  # no percentages of angles
    assert summ["usable_strikes"] == {"left": 4, "right": 5}
    assert summ["rejected_strikes"] == 1
    assert summ["strike_pattern_counts"] == {"rearfoot": 4, "midfoot": 5, "forefoot": 0}


def test_stats_ignore_missing_values():
    s = _run(0.33, 4, 0.25)
    s[0]["shin_angle_deg"], s[2]["shin_angle_deg"] = 5.0, None
    st = per_foot_stats(s, ("shin_angle_deg",))["left"]["shin_angle_deg"]
    assert st == {"mean": 5.0, "sd": None, "n": 1}


def test_cadence_not_biased_by_whole_frame_contacts():
    # 170 steps/min filmed at 30 fps: contacts land on whole frames, 10 or 11 frames apart
    fps, step = 30.0, 60.0 / 170.0
    s = [{"foot": ("left", "right")[i % 2], "ic_time_s": np.ceil((0.05 + i * step) * fps) / fps,
          "toe_off_time_s": None, "rejected": False} for i in range(30)]
    fill_timing(s)
    assert cadence_spm(s) == pytest.approx(170.0, rel=0.005)


def test_cadence_none_when_step_times_disagree():
    s = [{"foot": "left", "ic_time_s": 0.0}, {"foot": "right", "ic_time_s": 0.3},
         {"foot": "left", "ic_time_s": 1.1}]
    fill_timing(s)
    assert cadence_spm(s) is None
