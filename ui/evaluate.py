"""Accuracy of initial contacts and shin angles against hand labels.

    gaitscope evaluate [--labels DIR] [--clips DIR] [--model full] [--out DIR] [--details]

Runs the pipeline (pose cached in ``--out``) on every labelled clip, matches the
detected initial contacts to the labelled ones inside the label window (one-to-one,
nearest first, within ``--tolerance-steps`` of the labelled step time) and prints,
per clip and pooled: IC recall and precision, timing error (frames and ms, mean
absolute, share within one frame), near/far agreement, and shin-angle MAE and bias.

Label shin angle: knee-to-ankle against the image vertical from the labelled points
(:func:`metrics.conventions.shin_angle_deg` with no tilt). Ours: the strike's
``shin_angle_deg`` from the analysis (measured against the belt's normal; the belts of
the labelled clips are level within about a degree), else the cleaned track's
knee-ankle angle at the detected contact frame.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metrics.conventions import faces_sign, shin_angle_deg
from metrics.landmarks import Landmark

__all__ = ["add_arguments", "run", "shared_dir", "default_out_dir", "evaluate", "match_contacts", "score_clip", "pool", "ClipScore", "format_table"]

#: Targets the evaluation reports against.
TARGETS = {"recall": 0.95, "precision": 0.95, "within_1_frame": 0.90, "near_far": 0.95, "shin_mae_deg": 3.0}


def default_out_dir(model: str = "full") -> Path:
    """Where ``evaluate`` caches pose tracks and results unless told otherwise."""
    return Path(tempfile.gettempdir()) / "gaitscope_evaluate" / model


def shared_dir() -> Path | None:
    """``../shared`` beside the repository (or ``$GAITSCOPE_SHARED``); None when absent."""
    env = os.environ.get("GAITSCOPE_SHARED")
    d = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    return d if d.is_dir() else None


@dataclass
class ClipScore:
    """Per-clip counts and errors (lists so clips can be pooled)."""

    clip: str
    n_labelled: int = 0
    n_detected: int = 0
    n_matched: int = 0
    frame_err: list = field(default_factory=list)      # detected - labelled, frames
    ms_err: list = field(default_factory=list)         # same, milliseconds on the clip's clock
    near_ok: list = field(default_factory=list)        # bool per match
    shin_err_deg: list = field(default_factory=list)   # ours - label
    toe_off_err: list = field(default_factory=list)    # detected - labelled toe-off frame
    unmatched_labels: list = field(default_factory=list)
    unmatched_detections: list = field(default_factory=list)
    pairs: list = field(default_factory=list)          # (label ic, detected ic, label near, detected near)

    def summary(self) -> dict:
        fe = np.abs(np.array(self.frame_err, float))
        se = np.array(self.shin_err_deg, float)
        se = se[np.isfinite(se)]
        div = lambda a, b: (a / b) if b else float("nan")  # noqa: E731
        return {
            "clip": self.clip, "labelled": self.n_labelled, "detected": self.n_detected, "matched": self.n_matched,
            "recall": div(self.n_matched, self.n_labelled), "precision": div(self.n_matched, self.n_detected),
            "mae_frames": float(fe.mean()) if len(fe) else float("nan"),
            "mae_ms": float(np.mean(np.abs(self.ms_err))) if self.ms_err else float("nan"),
            "bias_frames": float(np.mean(self.frame_err)) if self.frame_err else float("nan"),
            "within_1_frame": float(np.mean(fe <= 1)) if len(fe) else float("nan"),
            "exact": float(np.mean(fe == 0)) if len(fe) else float("nan"),
            "near_far": float(np.mean(self.near_ok)) if self.near_ok else float("nan"),
            "shin_mae_deg": float(np.mean(np.abs(se))) if len(se) else float("nan"),
            "shin_bias_deg": float(np.mean(se)) if len(se) else float("nan"),
            "shin_n": int(len(se)),
            "toe_off_mae_frames": float(np.mean(np.abs(self.toe_off_err))) if self.toe_off_err else float("nan"),
            "toe_off_bias_frames": float(np.mean(self.toe_off_err)) if self.toe_off_err else float("nan"),
        }


def match_contacts(labelled: list[int], detected: list[int], tol_frames: float) -> list[tuple[int, int]]:
    """One-to-one matching of frame numbers, closest pairs first, within ``tol_frames``.

    Returns (label index, detection index) pairs.

    >>> match_contacts([10, 20, 30], [9, 21, 22, 45], 3)
    [(0, 0), (1, 1)]
    """
    cand = sorted((abs(d - lab), i, j) for i, lab in enumerate(labelled) for j, d in enumerate(detected)
                  if abs(d - lab) <= tol_frames)
    used_l, used_d, out = set(), set(), []
    for _, i, j in cand:
        if i in used_l or j in used_d:
            continue
        used_l.add(i)
        used_d.add(j)
        out.append((i, j))
    return sorted(out)


def _label_shin(strike: dict, faces: int) -> float:
    pts = strike.get("points") or {}
    k, a = pts.get("knee"), pts.get("ankle")
    if k is None or a is None:
        return float("nan")
    return float(shin_angle_deg(np.array(k, float), np.array(a, float), faces))


def _our_shin(strike: dict, track, faces: int) -> float:
    v = strike.get("shin_angle_deg")
    if v is not None and np.isfinite(v):
        return float(v)
    if track is None:
        return float("nan")
    i = int(strike["ic_frame"])
    k = track.xy_px[i, Landmark[f"{strike['foot']}_knee"]]
    a = track.xy_px[i, Landmark[f"{strike['foot']}_ankle"]]
    return float(shin_angle_deg(k, a, faces))


def score_clip(label: dict, strikes: list[dict], t_s: np.ndarray, track=None, tol_steps: float = 0.3) -> ClipScore:
    """Compare detected strikes (dicts with foot, near, ic_frame, shin_angle_deg) with one label file.

    Parameters
    ----------
    label : parsed label JSON (see ``../shared/labels/README.md``).
    strikes : detected strikes of the whole clip.
    t_s : frame timestamps of the clip (for errors in ms).
    track : cleaned track, for shin angles when strikes carry none.
    tol_steps : matching tolerance as a share of the median labelled step (contact to contact).
    """
    w0, w1 = label["window"]
    faces = faces_sign(label["runner_faces"])
    lab = sorted(label["strikes"], key=lambda s: s["ic_frame"])
    lab_f = [int(s["ic_frame"]) for s in lab]
    steps = np.diff(lab_f)
    tol = max(1.5, tol_steps * float(np.median(steps))) if len(steps) else 3.0
    det = sorted(strikes, key=lambda s: s["ic_frame"])
    det = [s for s in det if w0 - tol <= s["ic_frame"] <= w1 + tol]
    det_f = [int(s["ic_frame"]) for s in det]
    pairs = match_contacts(lab_f, det_f, tol)
    sc = ClipScore(label["clip"], n_labelled=len(lab))
    matched_d = {j for _, j in pairs}
    # detections just outside the window count only when they match a label
    sc.n_detected = sum(1 for j, s in enumerate(det) if w0 <= s["ic_frame"] <= w1 or j in matched_d)
    sc.n_matched = len(pairs)
    for i, j in pairs:
        lf, df = lab_f[i], det_f[j]
        sc.frame_err.append(df - lf)
        sc.ms_err.append(1000.0 * (t_s[df] - t_s[lf]))
        lab_near = lab[i]["foot"] == "near"
        sc.near_ok.append(bool(det[j]["near"]) == lab_near)
        sc.shin_err_deg.append(_our_shin(det[j], track, faces) - _label_shin(lab[i], faces))
        if lab[i].get("toe_off_frame") is not None and det[j].get("toe_off_frame") is not None:
            sc.toe_off_err.append(int(det[j]["toe_off_frame"]) - int(lab[i]["toe_off_frame"]))
        sc.pairs.append((lf, df, "near" if lab_near else "far", "near" if det[j]["near"] else "far"))
    sc.unmatched_labels = [lab_f[i] for i in range(len(lab)) if i not in {p[0] for p in pairs}]
    sc.unmatched_detections = [det_f[j] for j in range(len(det)) if j not in matched_d and w0 <= det_f[j] <= w1]
    return sc


def pool(scores: list[ClipScore]) -> ClipScore:
    """All clips' matches together."""
    out = ClipScore("overall")
    for s in scores:
        out.n_labelled += s.n_labelled
        out.n_detected += s.n_detected
        out.n_matched += s.n_matched
        for name in ("frame_err", "ms_err", "near_ok", "shin_err_deg", "toe_off_err"):
            getattr(out, name).extend(getattr(s, name))
    return out


def _pct(x: float) -> str:
    return "   -" if not np.isfinite(x) else f"{100 * x:4.0f}"


def _num(x: float, fmt: str = "5.1f") -> str:
    return "    -" if not np.isfinite(x) else format(x, fmt)


def format_table(scores: list[ClipScore]) -> str:
    """Plain-text table, one row per clip and a pooled row."""
    head = (f"{'clip':<52} {'lab':>3} {'det':>3} {'rec%':>4} {'prec%':>5} {'|err|fr':>7} {'|err|ms':>7} "
            f"{'bias fr':>7} {'<=1fr%':>6} {'=0fr%':>5} {'near%':>5} {'shinMAE':>7} {'shinBias':>8} {'TO|err|':>7} {'TObias':>6}")
    lines = [head, "-" * len(head)]
    rows = list(scores) + ([pool(scores)] if len(scores) > 1 else [])
    for s in rows:
        d = s.summary()
        lines.append(
            f"{d['clip'][:52]:<52} {d['labelled']:>3} {d['detected']:>3} {_pct(d['recall'])} {_pct(d['precision']):>5} "
            f"{_num(d['mae_frames'], '7.2f')} {_num(d['mae_ms'], '7.1f')} {_num(d['bias_frames'], '+7.2f')} "
            f"{_pct(d['within_1_frame']):>6} {_pct(d['exact']):>5} {_pct(d['near_far']):>5} "
            f"{_num(d['shin_mae_deg'], '7.1f')} {_num(d['shin_bias_deg'], '+8.1f')} "
            f"{_num(d['toe_off_mae_frames'], '7.2f')} {_num(d['toe_off_bias_frames'], '+6.2f')}"
        )
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--labels", type=Path, default=None, help="folder of label JSON files (default: ../shared/labels)")
    parser.add_argument("--clips", type=Path, default=None, help="folder of the clips (default: LABELS/../clips)")
    parser.add_argument("--model", choices=("lite", "full", "heavy"), default="full")
    parser.add_argument("--out", type=Path, default=None,
                        help="where pose tracks and results are cached (default: a gaitscope_evaluate temp folder)")
    parser.add_argument("--tolerance-steps", type=float, default=0.3,
                        help="matching tolerance as a share of the labelled step time (default 0.3)")
    parser.add_argument("--details", action="store_true", help="list every labelled and detected contact")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")


def evaluate(labels_dir: Path, clips_dir: Path, out_dir: Path, model: str = "full", tol_steps: float = 0.3,
             log=print) -> list[ClipScore]:
    """Run the pipeline on each labelled clip and score it; ``log`` receives one line per skipped clip."""
    from ui.pipeline import AnalyzeOptions, analyze

    scores = []
    for path in sorted(labels_dir.glob("*.json")):
        label = json.loads(path.read_text(encoding="utf-8"))
        video = clips_dir / label["clip"]
        if not video.is_file():
            log(f"skip {label['clip']}: clip not found in {clips_dir}")
            continue
        res = analyze(video, out_dir / video.stem, AnalyzeOptions(model=model))
        strikes = [dict(s) for s in res.gait.strikes]
        scores.append(score_clip(label, strikes, res.track_raw.t_s, res.gait.track_clean, tol_steps))
    return scores


def run(args) -> int:
    """The ``gaitscope evaluate`` command."""
    shared = shared_dir()
    labels_dir = args.labels or (shared / "labels" if shared else None)
    if labels_dir is None or not labels_dir.is_dir():
        print("evaluate: no labels found (../shared is absent and --labels was not given); nothing to evaluate.")
        return 0
    clips_dir = args.clips or labels_dir.parent / "clips"
    out = args.out or default_out_dir(args.model)
    scores = evaluate(labels_dir, clips_dir, out, args.model, args.tolerance_steps)
    if not scores:
        print(f"evaluate: no labelled clip found in {labels_dir}")
        return 0
    print(format_table(scores))
    total = pool(scores).summary()
    verdict = ", ".join(
        f"{k} {'ok' if (total[k] <= v if k == 'shin_mae_deg' else total[k] >= v) else 'BELOW TARGET'}"
        for k, v in TARGETS.items())
    print(f"targets (overall): {verdict}")
    if args.details:
        for s in scores:
            print(f"\n{s.clip}")
            print("  label  ->  detected   (label near/far -> detected)")
            for lf, df, ln, dn in s.pairs:
                print(f"  {lf:5d}  ->  {df:5d}  {df - lf:+d}   {ln} -> {dn}")
            if s.unmatched_labels:
                print(f"  missed labels: {s.unmatched_labels}")
            if s.unmatched_detections:
                print(f"  extra detections: {s.unmatched_detections}")
    if args.json:
        args.json.write_text(json.dumps([s.summary() for s in scores] + [total], indent=2), encoding="utf-8")
    return 0
