"""Corrections: every measure recomputes, edits survive JSON, replay and undo are exact."""

from __future__ import annotations

import json

import pytest

from metrics.edits import Edit, apply_edits, edits_from_json, edits_to_json, undo, with_edit
from metrics.gait import GaitOptions, analyze_gait
from tests.synthetic import synth_run


@pytest.fixture(scope="module")
def run():
    track, truth = synth_run(duration_s=5.0, noise_px=0.5, seed=2)
    return analyze_gait(track, GaitOptions(runner_height_cm=180.0)), truth


def _by_id(result, sid):
    return next(s for s in result.strikes if s["id"] == sid)


def _kept(result):
    return [s for s in result.strikes if not s["rejected"]]


@pytest.mark.parametrize("edit", [
    Edit("move", strike_id="L40", ic_frame=41),
    Edit("move", strike_id="R12", ic_frame=12, toe_off_frame=19),
    Edit("add", foot="left", ic_frame=100),
    Edit("reject", strike_id="R7"),
    Edit("restore", strike_id="L3"),
])
def test_edit_json_round_trip(edit):
    text = json.dumps(edits_to_json([edit]))
    assert edits_from_json(json.loads(text)) == [edit]


@pytest.mark.parametrize("bad,match", [
    (dict(kind="swap", strike_id="L1"), "kind"),
    (dict(kind="move", ic_frame=3), "strike_id"),
    (dict(kind="move", strike_id="L1"), "ic_frame"),
    (dict(kind="add", ic_frame=3), "foot"),
])
def test_bad_edits_say_what_is_missing(bad, match):
    with pytest.raises(ValueError, match=match):
        Edit(**bad)
    with pytest.raises(ValueError, match="unknown edit fields"):
        Edit.from_dict({"kind": "reject", "strike_id": "L1", "frame": 3})


def test_reject_and_restore_change_the_summary(run):
    res, _ = run
    target = _kept(res)[2]
    n_before = res.summary["usable_strikes"][target["foot"]]
    rej = apply_edits(res, [Edit("reject", strike_id=target["id"])])
    s = _by_id(rej, target["id"])
    assert s["rejected"] and s["edited"] and "rejected_by_user" in s["flags"]
    assert len(rej.strikes) == len(res.strikes)  # kept in the list
    assert rej.summary["usable_strikes"][target["foot"]] == n_before - 1
    back = with_edit(rej, Edit("restore", strike_id=target["id"]))
    assert not _by_id(back, target["id"])["rejected"]
    assert back.summary["usable_strikes"] == res.summary["usable_strikes"]
    assert res.summary["usable_strikes"][target["foot"]] == n_before  # the input was not changed


def test_move_recomputes_the_strike_and_marks_it_edited(run):
    res, _ = run
    target = _kept(res)[3]
    new_frame = target["ic_frame"] + 2
    moved = apply_edits(res, [Edit("move", strike_id=target["id"], ic_frame=new_frame)])
    s = _by_id(moved, target["id"])  # the id is stable across the move
    assert s["ic_frame"] == new_frame and s["edited"]
    assert s["ic_time_s"] == pytest.approx(res.track_clean.t_s[new_frame])
    assert s["shin_angle_deg"] != pytest.approx(target["shin_angle_deg"], abs=0.5)  # the shank turned meanwhile
    assert s["contact_time_ms"] < target["contact_time_ms"]
    nxt = moved.strikes[moved.strikes.index(s) + 1]
    assert nxt["step_time_ms"] == pytest.approx(1000 * (nxt["ic_time_s"] - s["ic_time_s"]))


def test_add_finds_toe_off_and_counts(run):
    res, truth = run
    victim = _kept(res)[4]
    # delete a strike by rejecting it, then add it back by hand at the true contact frame
    true = min(truth["contacts"], key=lambda c: abs(c["ic_frame"] - victim["ic_frame"]))
    out = apply_edits(res, [Edit("reject", strike_id=victim["id"]),
                            Edit("add", foot=victim["foot"], ic_frame=true["ic_frame"])])
    added = [s for s in out.strikes if s["id"].endswith("+")]
    assert len(added) == 1
    a = added[0]
    assert a["edited"] and not a["rejected"] and "added_by_user" in a["flags"]
    assert a["toe_off_frame"] is not None and abs(a["toe_off_frame"] - true["toe_off_frame"]) <= 1
    assert out.summary["usable_strikes"] == res.summary["usable_strikes"]


def test_replay_and_undo_are_exact(run):
    res, _ = run
    k = _kept(res)
    edits = [Edit("reject", strike_id=k[1]["id"]), Edit("move", strike_id=k[5]["id"], ic_frame=k[5]["ic_frame"] - 1),
             Edit("add", foot="right", ic_frame=5)]
    step = res
    for e in edits:
        step = with_edit(step, e)
    at_once = apply_edits(res, edits)
    assert step.strikes == at_once.strikes and step.summary == at_once.summary
    # a reload: the stored JSON replayed onto a fresh analysis gives the same result
    reloaded = apply_edits(res, edits_from_json(json.loads(json.dumps(edits_to_json(at_once.edits)))))
    assert reloaded.strikes == at_once.strikes
    # undo = the list minus its last edit
    assert undo(at_once).strikes == apply_edits(res, edits[:-1]).strikes
    assert undo(undo(undo(at_once))).strikes == res.strikes
    assert undo(res).strikes == res.strikes


def test_edit_of_unknown_strike_is_skipped_with_a_warning(run):
    res, _ = run
    out = apply_edits(res, [Edit("reject", strike_id="L99999")])
    assert out.strikes == res.strikes
    assert any("L99999" in w for w in out.warnings)
