"""Comparing two sessions: the change, its interval, the verdicts; and on two real clips of one runner."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.compare import MIN_STRIKES, REMEASUREMENT_ERROR, compare_sessions


def _session(shin_left, shin_right=(), **extra) -> list[dict]:
    out = [{"foot": "left", "shin_angle_deg": float(v), **extra} for v in shin_left]
    out += [{"foot": "right", "shin_angle_deg": float(v), **extra} for v in shin_right]
    return out


def _row(rows, foot="left", measure="shin_angle_deg"):
    return next(r for r in rows if r.foot == foot and r.measure == measure)


def test_the_same_session_twice_is_no_change():
    s = _session([8.0, 9.5, 7.0, 10.0, 8.5], [6.0, 7.0, 5.5, 6.5])
    for r in compare_sessions(s, s, measures=("shin_angle_deg",)):
        assert r.change == 0.0 and r.ci_low < 0.0 < r.ci_high and r.verdict == "no clear change"


def test_a_large_clear_drop_is_changed_and_its_interval_holds_it():
    rng = np.random.default_rng(0)
    before, after = rng.normal(10.0, 1.5, 9), rng.normal(3.0, 1.5, 9)
    r = _row(compare_sessions(_session(before), _session(after), measures=("shin_angle_deg",)))
    assert r.change == pytest.approx(after.mean() - before.mean())
    assert r.ci_low < r.change < r.ci_high < 0.0
    assert (r.before_n, r.after_n) == (9, 9) and r.before_sd == pytest.approx(before.std(ddof=1))
    assert r.verdict == "changed"


def test_a_real_but_small_shin_change_is_within_the_remeasurement_error():
    before, after = np.full(30, 6.0) + np.tile([-0.2, 0.2], 15), np.full(30, 4.0) + np.tile([-0.2, 0.2], 15)
    r = _row(compare_sessions(_session(before), _session(after), measures=("shin_angle_deg",)))
    assert r.ci_high < 0.0 and abs(r.change) < REMEASUREMENT_ERROR["shin_angle_deg"]
    assert r.verdict == "within error"
    # knee flexion has no known re-measurement error: the same shift counts as a change
    knee = compare_sessions([{"foot": "left", "knee_flexion_deg": v} for v in before],
                            [{"foot": "left", "knee_flexion_deg": v} for v in after], measures=("knee_flexion_deg",))
    assert knee[0].verdict == "changed"


def test_rejected_strikes_do_not_count_and_few_strikes_give_no_verdict():
    before = _session([10.0, 10.5, 9.5, 10.0]) + _session([40.0], rejected=True)
    after = _session([2.0] * (MIN_STRIKES - 1))
    r = _row(compare_sessions(before, after, measures=("shin_angle_deg",)))
    assert r.before_n == 4 and r.before_mean == pytest.approx(10.0)  # the rejected 40 deg is left out
    assert r.verdict == "too few strikes" and r.ci_low is None and r.change == pytest.approx(-8.0)


def test_a_foot_neither_session_has_is_left_out():
    rows = compare_sessions(_session([1.0, 2.0, 3.0]), _session([1.0, 2.0, 3.0]), measures=("shin_angle_deg",))
    assert [r.foot for r in rows] == ["left"]


def test_the_interval_covers_the_true_change_95_times_in_100():
    """Unequal scatter and strike counts, as between two visits: Welch's interval keeps its level."""
    rng = np.random.default_rng(1)
    hits = 0
    trials = 2000
    for _ in range(trials):
        a, b = rng.normal(8.0, 1.0, 7), rng.normal(5.0, 3.0, 12)
        r = _row(compare_sessions(_session(a), _session(b), measures=("shin_angle_deg",)))
        hits += r.ci_low <= -3.0 <= r.ci_high
    assert abs(hits / trials - 0.95) < 0.015


@pytest.mark.slow
def test_overstriding_session_against_a_normal_one_of_the_same_runner(shared):
    """The same runner filmed running normally and asked to overstride (labelled clips in ../shared)."""
    from ui.evaluate import default_out_dir
    from ui.pipeline import AnalyzeOptions, analyze

    out = default_out_dir("full")
    docs = {}
    for name in ("hongwei_no_overstride_augment_F_Running_8_flipped", "hongwei_overstride_augment_Overstride_12_flipped"):
        docs[name] = analyze(shared / "clips" / f"{name}.mp4", out / name, AnalyzeOptions(model="full")).document
    normal, over = docs.values()
    rows = compare_sessions(normal["strikes"], over["strikes"])
    for foot in ("left", "right"):
        over_row = _row(rows, foot, "overstride")
        assert over_row.change > 0.05 and over_row.verdict == "changed", over_row  # heel further ahead of the hip
        foot_row = _row(rows, foot, "foot_angle_deg")
        assert foot_row.change > 0 and foot_row.verdict == "changed", foot_row  # toes up: landing on the heel
        shin = _row(rows, foot)
        assert shin.ci_low > 0.0, shin  # the shin lands less vertical, beyond the strikes' scatter
    assert any(_row(rows, foot).verdict == "changed" for foot in ("left", "right"))
    # the hand labels agree on the direction (they see a larger change: +9 and +14 deg on the labelled strikes)
    import json

    from metrics.conventions import faces_sign, shin_angle_deg

    def labelled(name, foot):
        lab = json.loads((shared / "labels" / f"{name}.json").read_text())
        f = faces_sign(lab["runner_faces"])
        return np.mean([shin_angle_deg(np.array(s["points"]["knee"]), np.array(s["points"]["ankle"]), f)
                        for s in lab["strikes"] if s["foot"] == foot])

    for foot in ("near", "far"):
        assert labelled("hongwei_overstride_augment_Overstride_12_flipped", foot) > labelled(
            "hongwei_no_overstride_augment_F_Running_8_flipped", foot) + REMEASUREMENT_ERROR["shin_angle_deg"]



@pytest.mark.slow
def test_compare_command_on_two_analysis_folders(shared, tmp_path, capsys):
    import csv

    from ui.cli import main
    from ui.evaluate import default_out_dir
    from ui.pipeline import AnalyzeOptions, analyze

    out = default_out_dir("full")
    names = ("hongwei_no_overstride_augment_F_Running_8_flipped", "hongwei_overstride_augment_Overstride_12_flipped")
    for name in names:
        analyze(shared / "clips" / f"{name}.mp4", out / name, AnalyzeOptions(model="full"))
    assert main(["compare", str(out / names[0]), str(out / names[1]), "--csv", str(tmp_path / "c.csv")]) == 0
    text = capsys.readouterr().out
    over = [line.split() for line in text.splitlines() if line.startswith("overstride (% leg)")]
    assert [row[3] for row in over] == ["left", "right"] and all(row[-1] == "changed" for row in over)
    assert "Left shin angle at contact:" in text and "Right shin angle at contact:" in text
    rows = list(csv.DictReader(open(tmp_path / "c.csv")))
    shin = {r["foot"]: r for r in rows if r["measure"] == "shin_angle_deg"}
    assert float(shin["left"]["change"]) > 0 and float(shin["left"]["ci95_low"]) > 0


def test_compare_command_says_what_is_wrong_with_its_folders(tmp_path, capsys):
    from ui.cli import main

    (tmp_path / "empty").mkdir()
    assert main(["compare", str(tmp_path / "empty"), str(tmp_path / "empty")]) == 2
    assert "no analysis.json there" in capsys.readouterr().err
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "analysis.json").write_text('{"hello": 1}')
    assert main(["compare", str(tmp_path / "other"), str(tmp_path / "other")]) == 2
    assert "not a gaitscope analysis" in capsys.readouterr().err
    (tmp_path / "other" / "analysis.json").write_text("{broken")
    assert main(["compare", str(tmp_path / "other"), str(tmp_path / "other")]) == 2
    assert "cannot be read as an analysis" in capsys.readouterr().err


@pytest.mark.slow
def test_steady_running_rarely_looks_changed_between_its_two_halves(shared, sample):
    """A false-alarm check on real clips: the first and second half of one steady run are two 'sessions'
    with nothing changed, so 'changed' should come about as often as the 5 % level allows, or less."""
    from ui.evaluate import default_out_dir
    from ui.pipeline import AnalyzeOptions, analyze

    clips = sorted((shared / "clips").glob("hongwei_*.mp4")) + [sample]
    verdicts = []
    for clip in clips:
        strikes = [s for s in analyze(clip, default_out_dir("full") / clip.stem, AnalyzeOptions(model="full"))
                   .document["strikes"] if not s.get("rejected")]
        times = sorted(s["ic_time_s"] for s in strikes)
        mid = times[len(times) // 2]
        rows = compare_sessions([s for s in strikes if s["ic_time_s"] < mid], [s for s in strikes if s["ic_time_s"] >= mid])
        verdicts += [r.verdict for r in rows]
    assert len(verdicts) >= 80
    assert verdicts.count("changed") <= 0.05 * len(verdicts), verdicts.count("changed")
    assert verdicts.count("no clear change") >= 0.85 * len(verdicts)


def test_shin_chart_shows_both_sessions_per_foot_around_the_earlier_mean():
    from ui.app_compare import shin_chart

    before = _session([1.0, 2.0, 3.0], [-2.0, -1.0, 0.0]) + _session([30.0], rejected=True)
    after = _session([6.0, 7.0], [0.0, 1.0])
    spec = shin_chart(before, after, "2026-11-01", "2026-12-01").to_dict()
    panels = spec["hconcat"]
    assert [p["title"] for p in panels] == ["left foot", "right foot"]
    for panel, earlier_mean in zip(panels, (2.0, -1.0)):
        band, dots, _means = panel["layer"]
        lo_hi = spec["datasets"][band["data"]["name"]][0]
        assert (lo_hi["lo"], lo_hi["hi"]) == (earlier_mean - REMEASUREMENT_ERROR["shin_angle_deg"],
                                              earlier_mean + REMEASUREMENT_ERROR["shin_angle_deg"])
        points = spec["datasets"][dots["data"]["name"]]
        assert 30.0 not in [p["shin angle (°)"] for p in points]  # rejected strikes are not drawn
        assert {p["session"] for p in points} == {"2026-11-01", "2026-12-01"}
    assert shin_chart([], [], "a", "b") is None
