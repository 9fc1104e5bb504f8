"""A person's corrections to the detected strikes, replayable after a reload.

An :class:`Edit` is a small frozen record (JSON-safe through ``to_dict``/``from_dict``).
:func:`apply_edits` replays a list of edits onto the strikes *as detected*
(``result.detected``) and recomputes every measure, the summary and the warnings from
``result.track_clean``. Because it always starts from the detection, the same list
gives the same result whatever result it is applied to; undo is replaying the list
without its last edit (:func:`undo`).

Kinds
-----
``move``     strike ``strike_id`` gets a new ``ic_frame`` (and optionally ``toe_off_frame``).
``add``      a new strike of ``foot`` at ``ic_frame`` (toe-off found automatically unless given).
``reject``   strike ``strike_id`` is kept but left out of the summary.
``restore``  strike ``strike_id`` counts again, even if it was rejected automatically.

Added and moved strikes count in the summary (a person placed them) unless rejected later.

Edited strikes carry ``edited=True``. An edit naming a strike that no longer exists
(say, after the detector changed) is skipped with a warning.

>>> e = Edit("move", strike_id="L42", ic_frame=43)
>>> Edit.from_dict(e.to_dict()) == e
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from metrics.gait import GaitResult, rebuild, strike_id
from metrics.kinematics import find_toe_off

__all__ = ["Edit", "EDIT_KINDS", "apply_edits", "with_edit", "undo", "edits_to_json", "edits_from_json"]

EDIT_KINDS = ("move", "add", "reject", "restore")


@dataclass(frozen=True)
class Edit:
    """One correction. ``kind`` is one of :data:`EDIT_KINDS`; see the module docstring."""

    kind: str
    strike_id: str | None = None
    foot: str | None = None
    ic_frame: int | None = None
    toe_off_frame: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in EDIT_KINDS:
            raise ValueError(f"edit kind must be one of {EDIT_KINDS}, got {self.kind!r}")
        if self.kind != "add" and not self.strike_id:
            raise ValueError(f"a {self.kind!r} edit needs the strike_id of the strike it changes")
        if self.kind in ("move", "add") and self.ic_frame is None:
            raise ValueError(f"a {self.kind!r} edit needs ic_frame")
        if self.kind == "add" and self.foot not in ("left", "right"):
            raise ValueError(f"an 'add' edit needs foot 'left' or 'right', got {self.foot!r}")
        for name in ("ic_frame", "toe_off_frame"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, int(v))

    def to_dict(self) -> dict:
        """JSON-safe dict without the unset fields."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, d: dict) -> "Edit":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown edit fields {sorted(unknown)}; expected some of {sorted(names)}")
        return cls(**d)


def edits_to_json(edits) -> list[dict]:
    """A list of dicts to store (for example in analysis.json or the app's session)."""
    return [e.to_dict() for e in edits]


def edits_from_json(items: list[dict]) -> list[Edit]:
    return [Edit.from_dict(d) for d in items]


def _frame_ok(result: GaitResult, frame: int) -> bool:
    return 0 <= frame < len(result.track_clean)


def _typical_contact_s(contacts: list[dict]) -> float:
    d = [c["toe_off_time_s"] - c["ic_time_s"] for c in contacts if c.get("toe_off_time_s") is not None]
    return float(np.median(d)) if d else 0.25


def _toe_off(result: GaitResult, foot: str, ic_frame: int, given: int | None, contacts: list[dict]):
    t = result.track_clean.t_s
    if given is not None and ic_frame < given < len(t):
        return int(given), float(t[given])
    max_s = min(0.6, 2.0 * _typical_contact_s(contacts))
    to = find_toe_off(result.track_clean, foot, ic_frame, result.geometry, max_contact_s=max_s)
    return (None, None) if to is None or to <= ic_frame else (int(to), float(t[to]))


def _apply_one(result: GaitResult, contacts: list[dict], e: Edit, n: int) -> str | None:
    """Apply edit number ``n`` to ``contacts`` in place; a warning sentence if it cannot be applied."""
    t = result.track_clean.t_s
    if e.kind == "add":
        if not _frame_ok(result, e.ic_frame):
            return f"Edit {n + 1} (add) is outside the clip (frame {e.ic_frame}); skipped."
        new_id, k = f"{strike_id(e.foot, e.ic_frame)}+", 1
        ids = {c["id"] for c in contacts}
        while new_id in ids:
            k += 1
            new_id = f"{strike_id(e.foot, e.ic_frame)}+{k}"
        to_f, to_t = _toe_off(result, e.foot, e.ic_frame, e.toe_off_frame, contacts)
        contacts.append({
            "id": new_id, "foot": e.foot, "near": e.foot == result.runner.get("near_side"),
            "ic_frame": e.ic_frame, "ic_time_s": float(t[e.ic_frame]), "toe_off_frame": to_f,
            "toe_off_time_s": to_t, "event_confidence": 1.0, "edited": True, "user": "added",
        })
        return None
    found = [c for c in contacts if c["id"] == e.strike_id]
    if not found:
        return f"Edit {n + 1} ({e.kind}) refers to strike {e.strike_id}, which was not found; skipped."
    c = found[0]
    if e.kind == "move":
        if not _frame_ok(result, e.ic_frame):
            return f"Edit {n + 1} (move {e.strike_id}) is outside the clip (frame {e.ic_frame}); skipped."
        old_to = c["toe_off_frame"]
        keep = e.toe_off_frame if e.toe_off_frame is not None else (
            old_to if old_to is not None and old_to > e.ic_frame
            and t[old_to] - t[e.ic_frame] <= 2.0 * _typical_contact_s(contacts) else None)
        c["toe_off_frame"], c["toe_off_time_s"] = _toe_off(result, c["foot"], e.ic_frame, keep, contacts)
        c["ic_frame"], c["ic_time_s"] = e.ic_frame, float(t[e.ic_frame])
        c["event_confidence"] = 1.0  # a person placed it
        c["user"] = "moved"
    elif e.kind == "reject":
        c["user"] = "rejected"
    else:
        c["user"] = "restored"
    c["edited"] = True
    return None


def apply_edits(result: GaitResult, edits) -> GaitResult:
    """The result with ``edits`` replayed, in order, onto the detected strikes.

    Every measure, the summary and the warnings are recomputed. ``result`` may be the
    original or an already-edited result: the replay always starts from ``result.detected``,
    so ``edits`` is the *whole* list, not an increment (see :func:`with_edit`).
    """
    contacts = [dict(c) for c in result.detected]
    notes = []
    for n, e in enumerate(edits):
        msg = _apply_one(result, contacts, e, n)
        if msg:
            notes.append(msg)
    return rebuild(result, contacts, tuple(edits), notes)


def with_edit(result: GaitResult, edit: Edit) -> GaitResult:
    """``result`` with one more edit on top of the ones it already has."""
    return apply_edits(result, tuple(result.edits) + (edit,))


def undo(result: GaitResult) -> GaitResult:
    """``result`` without its last edit (unchanged when it has none)."""
    return apply_edits(result, tuple(result.edits)[:-1])
