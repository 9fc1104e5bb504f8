"""Synthetic side-view running tracks with known truth, for tests (pure numpy).

``synth_run(**params) -> (PoseTrack, truth)`` draws the 33 BlazePose landmarks of a
runner filmed side-on on a treadmill (or overground with a static camera), frame by
frame, from a simple but physically consistent model:

* Body frame: ``u`` forward (direction of travel), ``v`` up, in pixels; the belt is
  ``v = 0``. The hip moves little (small fore-aft drift) and bobs, lowest at mid-stance.
* Stance: every point of the foot on the belt moves backward with the belt
  (treadmill) or stays put while the hip moves forward (overground). The foot lands
  at its strike angle (rearfoot toes up, pivots on the heel; forefoot toes down,
  pivots on the toe), goes flat, then rolls over the toe until toe-off.
* Swing: ankle on a cubic Hermite path relative to the hip whose end slopes match
  the belt, so the foot swings forward past its landing point and retracts before
  contact (the pelvis-relative foot maximum comes just before IC, as on real clips).
* IC geometry: the shin angle at IC is a parameter; knee by two-link inverse
  kinematics (thigh = shank = half the hip-ankle leg length).

Camera effects: tilt (the belt line runs at ``tilt_deg`` in the picture), pixel noise,
outliers, left/right leg swaps over given frame ranges, far-foot merges onto the
near foot at far-foot contact, dropped frames (NaN), repeated frames (a lower-rate
source shown with every k-th frame duplicated, ``repeated`` flag set), variable frame
rate timestamps and slowed playback (timestamps stretched).

Truth follows the label definitions of ``/work/shared/labels``: ``ic_frame`` is the
first frame whose picture shows the shoe on the belt; ``toe_off_frame`` the last
frame that still does. Times are in the track's clock (``t_s``).

Import from tests as ``from tests.synthetic import synth_run``.

>>> track, truth = synth_run(duration_s=2.0, seed=1)
>>> track.xy_px.shape[1:], truth["faces"], truth["near"]
((33, 2), 1, 'right')
>>> abs(truth["cadence_spm"] - 170.0) < 1e-9
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from metrics.conventions import shin_angle_deg
from metrics.landmarks import Landmark, N_LANDMARKS, SIDES, other_side
from metrics.track import PoseTrack

__all__ = ["SynthParams", "synth_run", "STRIKE_FOOT_ANGLE_DEG"]

#: Foot angle at IC against the belt (toes up positive) for each strike type.
STRIKE_FOOT_ANGLE_DEG = {"rearfoot": 18.0, "midfoot": 2.0, "forefoot": -10.0}

_LEG_PARTS = ("knee", "ankle", "heel", "foot_index")


@dataclass(frozen=True)
class SynthParams:
    """Parameters of a synthetic clip (body sizes relative to the hip-ankle leg length)."""

    cadence_spm: float = 170.0
    fps: float = 30.0
    duration_s: float = 6.0
    faces: int = 1
    near: str | None = None            # None: 'right' when facing right, else 'left'
    tilt_deg: float = 0.0
    strike: str = "rearfoot"           # rearfoot | midfoot | forefoot
    foot_angle_ic_deg: float | None = None  # None: from strike
    shin_angle_ic_deg: float = 6.0
    thigh_angle_ic_deg: float = 22.0
    contact_share: float = 0.70        # contact time / step time
    leg_px: float = 380.0              # hip to ankle
    size: tuple[int, int] = (608, 1080)
    overground: bool = False
    noise_px: float = 0.0
    outlier_rate: float = 0.0          # share of leg points thrown by ~0.15 leg
    swaps: tuple[tuple[int, int], ...] = ()   # (first_frame, n_frames): legs labelled the other way
    merge_far_ic_frames: int = 0       # far leg drawn on the near leg for n frames from each far IC
    dropped: tuple[int, ...] = ()      # frames with no detection
    repeat_every: int | None = None    # every k-th frame repeats the previous picture
    vfr_jitter: float = 0.0            # relative jitter of frame intervals
    playback_slowdown: float = 1.0     # timestamps stretched by this factor (slowed playback)
    t0_s: float = 0.13                 # time of the first near-foot IC (content clock)
    seed: int = 0


def synth_run(params: SynthParams | None = None, **overrides) -> tuple[PoseTrack, dict]:
    """A synthetic runner: ``(track, truth)``.

    Parameters
    ----------
    params : SynthParams, optional
    **overrides : fields of :class:`SynthParams` to change.

    Returns
    -------
    track : PoseTrack with ``z`` (near side negative) and ``repeated`` set.
    truth : dict with ``faces``, ``near``, ``tilt_deg``, ``cadence_spm``, ``leg_px``,
        ``foot_px``, ``belt_y_at_x0_px`` (belt line at image x = 0, lowest foot points),
        ``contacts`` (list of dicts sorted by ``ic_frame``: foot, near, ic_frame,
        ic_time_s, toe_off_frame, toe_off_time_s, shin_angle_ic_deg,
        shin_angle_at_frame_deg, foot_angle_ic_deg), ``xy_true`` (noise-free,
        swap-free landmarks) and ``params``.
    """
    p = replace(params or SynthParams(), **overrides)
    if p.strike not in STRIKE_FOOT_ANGLE_DEG:
        raise ValueError(f"strike must be one of {sorted(STRIKE_FOOT_ANGLE_DEG)}, got {p.strike!r}")
    rng = np.random.default_rng(p.seed)
    near = p.near or ("right" if p.faces > 0 else "left")
    t_frame, t_content, repeated = _timeline(p, rng)
    model = _Model(p)
    xy_true = np.stack([model.landmarks(tc, near) for tc in t_content])          # (T, 33, 2) image px
    xy_true = _to_image(xy_true, p)
    contacts = model.contacts(t_content, t_frame, near, p)
    for c in contacts:  # truth shin angle in the picture at the labelled frame
        leg = {s: {q: int(Landmark[f"{s}_{q}"]) for q in ("knee", "ankle")} for s in SIDES}[c["foot"]]
        k, a = xy_true[c["ic_frame"], leg["knee"]], xy_true[c["ic_frame"], leg["ankle"]]
        c["shin_angle_at_frame_deg"] = float(shin_angle_deg(k, a, p.faces, p.tilt_deg))
    xy, vis, z = _observe(xy_true, contacts, near, p, rng)
    xy[repeated] = xy[np.flatnonzero(repeated) - 1]  # a repeated picture gives the same pose
    t_s = t_frame * p.playback_slowdown
    for c in contacts:
        c["ic_time_s"] *= p.playback_slowdown
        if c["toe_off_time_s"] is not None:
            c["toe_off_time_s"] *= p.playback_slowdown
    track = PoseTrack(xy, vis, t_s, p.size, {"synthetic": True}, z=z, repeated=repeated)
    b0 = model.belt_y
    cx, cy = p.size[0] / 2, p.size[1] / 2
    # belt line (v = 0 in the body frame) through the rotated picture, evaluated at x = 0
    a = np.deg2rad(p.tilt_deg)
    px, py = _rot(np.array([0.0 - cx, b0 - cy]), a) + np.array([cx, cy])
    belt_y0 = py - np.tan(a) * px
    truth = {
        "faces": p.faces, "near": near, "tilt_deg": p.tilt_deg, "strike": p.strike,
        "cadence_spm": p.cadence_spm / p.playback_slowdown, "leg_px": p.leg_px, "foot_px": model.foot_px,
        "belt_y_at_x0_px": float(belt_y0), "contacts": contacts, "xy_true": xy_true, "params": asdict(p),
    }
    return track, truth


def _timeline(p: SynthParams, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame timestamps, the content time each picture shows, and repeated flags."""
    n = int(round(p.duration_s * p.fps))
    dt = np.full(n, 1.0 / p.fps)
    if p.vfr_jitter:
        dt = dt * (1.0 + rng.uniform(-p.vfr_jitter, p.vfr_jitter, n))
    t = np.concatenate([[0.0], np.cumsum(dt[:-1])])
    if p.repeat_every:
        k = int(p.repeat_every)
        src_fps = p.fps * (k - 1) / k
        content = np.floor(t * src_fps + 1e-6) / src_fps
    else:
        content = t.copy()
    repeated = np.zeros(n, bool)
    repeated[1:] = np.isclose(content[1:], content[:-1])
    return t, content, repeated


class _Model:
    """Body geometry and gait timing in the body frame (u forward, v up, px)."""

    def __init__(self, p: SynthParams):
        self.p = p
        L = p.leg_px
        self.L = L
        self.thigh = self.shank = 0.5 * L
        self.heel_off = np.array([-0.07 * L, -0.09 * L])   # from ankle, foot flat
        self.toe_off = np.array([0.23 * L, -0.09 * L])
        self.foot_px = float(self.toe_off[0] - self.heel_off[0])
        self.step_s = 60.0 / p.cadence_spm
        self.stride_s = 2 * self.step_s
        self.tc_s = p.contact_share * self.step_s
        self.theta_s = np.deg2rad(STRIKE_FOOT_ANGLE_DEG[p.strike] if p.foot_angle_ic_deg is None
                                  else p.foot_angle_ic_deg)
        self.theta_to = np.deg2rad(-28.0)
        phi = np.deg2rad(p.shin_angle_ic_deg)
        psi = np.deg2rad(max(p.thigh_angle_ic_deg, p.shin_angle_ic_deg + 6.0))
        # ankle at IC: the lowest foot point on the belt at the strike angle
        self.ankle_ic_v = self._ankle_height(self.theta_s)
        knee_v = self.ankle_ic_v + self.shank * np.cos(phi)
        self.hip_ic_v = knee_v + self.thigh * np.cos(psi)
        self.ankle_ic_u = self.thigh * np.sin(psi) + self.shank * np.sin(phi)
        self.bob_px = 0.035 * L
        self.hip_mean_v = self.hip_ic_v + self.bob_px * np.cos(np.pi * self.tc_s / self.step_s)
        self.belt_speed = (self.ankle_ic_u + 0.45 * L) / self.tc_s          # px/s
        self.ground_speed = 0.0 if p.overground else self.belt_speed       # how fast the ground moves back
        w, h = p.size
        self.x0 = 0.25 * w if (p.overground and p.faces > 0) else (0.75 * w if p.overground else 0.5 * w)
        self.belt_y = 0.86 * h

    # --- foot geometry -------------------------------------------------------------
    def _foot_points(self, ankle: np.ndarray, theta: float) -> tuple[np.ndarray, np.ndarray]:
        return ankle + _rot(self.heel_off, theta), ankle + _rot(self.toe_off, theta)

    def _ankle_height(self, theta: float) -> float:
        heel, toe = self._foot_points(np.zeros(2), theta)
        return -min(heel[1], toe[1])

    def _stance(self, tau: float, ic_u_ground: float) -> tuple[np.ndarray, float]:
        """Ankle (ground frame: u of the ground point at IC) and foot angle ``tau`` s after IC."""
        t_flat, t_rise = 0.22 * self.tc_s, 0.55 * self.tc_s
        ease = lambda x: 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))  # noqa: E731
        # foot flat on the ground: heel at (H, 0), toe at (H + foot, 0); H chosen so the IC pose matches
        if tau < t_flat:
            theta = self.theta_s * (1.0 - ease(tau / t_flat))
        elif tau < t_rise:
            theta = 0.0
        else:
            theta = self.theta_to * ease((tau - t_rise) / (self.tc_s - t_rise))
        flat_ankle = np.array([ic_u_ground, -self.heel_off[1]])  # ankle when flat, u in ground frame
        if tau < t_flat:
            pivot_off = self.heel_off if self.theta_s >= 0 else self.toe_off
        else:
            pivot_off = self.toe_off
        pivot = flat_ankle + pivot_off                     # the point that stays on the ground
        ankle = pivot - _rot(pivot_off, theta)
        return ankle, theta

    def _flat_ankle_u_at_ic(self) -> float:
        """Ground-frame offset: ankle u when flat, given the ankle at IC is at u = 0."""
        pivot_off = self.heel_off if self.theta_s >= 0 else self.toe_off
        ankle0 = np.array([0.0, -self.heel_off[1]]) + pivot_off - _rot(pivot_off, self.theta_s)
        return -ankle0[0]

    # --- time ----------------------------------------------------------------------
    def ic_times(self, side_is_near: bool, t_end: float) -> np.ndarray:
        t0 = self.p.t0_s + (0.0 if side_is_near else self.step_s)
        t0 -= self.stride_s * np.ceil((t0 + self.stride_s) / self.stride_s)   # start before the clip
        return np.arange(t0, t_end + 2 * self.stride_s, self.stride_s)

    def hip(self, t: float) -> np.ndarray:
        drift = 0.03 * self.L * np.sin(2 * np.pi * 0.3 * t) + 0.012 * self.L * np.sin(2 * np.pi * t / self.step_s)
        u = drift + (self.belt_speed - self.ground_speed) * t
        mid = self.p.t0_s + 0.5 * self.tc_s
        v = self.hip_mean_v - self.bob_px * np.cos(2 * np.pi * (t - mid) / self.step_s)  # lowest at mid-stance
        return np.array([u, v])

    def foot(self, t: float, ics: np.ndarray) -> tuple[np.ndarray, float]:
        """Ankle (body frame, absolute u) and foot angle of one foot at content time ``t``."""
        k = int(np.searchsorted(ics, t, side="right") - 1)
        t_ic = ics[k]
        tau = t - t_ic
        if tau < self.tc_s:
            return self._stance_abs(t_ic, tau)
        # swing to the next IC: Hermite in hip-relative coordinates
        t_to, t_next = t_ic + self.tc_s, ics[k + 1]
        a0, th0 = self._stance_abs(t_ic, self.tc_s)
        a1, th1 = self._stance_abs(t_next, 0.0)
        h0, h1 = self.hip(t_to), self.hip(t_next)
        r0, r1 = a0 - h0, a1 - h1
        d = t_next - t_to
        s = (t - t_to) / d
        m0, m1 = -self.belt_speed * d, -0.5 * self.belt_speed * d
        h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
        ru = h00 * r0[0] + h10 * m0 + h01 * r1[0] + h11 * m1
        v = (1 - s) * a0[1] + s * a1[1] + 0.30 * self.L * np.sin(np.pi * s)
        smooth = 3 * s**2 - 2 * s**3
        theta = th0 + (th1 - th0) * smooth
        return np.array([self.hip(t)[0] + ru, v]), float(theta)

    def _stance_abs(self, t_ic: float, tau: float) -> tuple[np.ndarray, float]:
        ic_u = self.hip(t_ic)[0] + self.ankle_ic_u              # ankle u at IC (absolute)
        flat_u = ic_u + self._flat_ankle_u_at_ic()
        ankle, theta = self._stance(tau, flat_u)
        ankle = ankle + np.array([-self.ground_speed * tau, 0.0])
        return ankle, theta

    # --- landmarks -----------------------------------------------------------------
    def landmarks(self, t: float, near: str) -> np.ndarray:
        """(33, 2) body-frame points (u forward, v up) at content time ``t``."""
        L = self.L
        out = np.zeros((N_LANDMARKS, 2))
        hip = self.hip(t)
        far = other_side(near)
        side_shift = {near: np.zeros(2), far: np.array([-0.02 * L, 0.01 * L])}
        for side in SIDES:
            ics = self.ic_times(side == near, t + 1.0)
            ankle, theta = self.foot(t, ics)
            heel, toe = self._foot_points(ankle, theta)
            h = hip + side_shift[side]
            knee = _knee(h, ankle, self.thigh, self.shank)
            phase = 2 * np.pi * ((t - ics[0]) / self.stride_s)
            sh = h + np.array([0.10 * L, 0.62 * L])
            swing = np.deg2rad(30.0) * np.cos(phase)  # arm opposite the leg of its side
            elbow = sh + 0.33 * L * np.array([np.sin(swing), -np.cos(swing)])
            wrist = elbow + 0.28 * L * np.array([np.cos(swing), np.sin(swing)])
            for name, pt in (("hip", h), ("knee", knee), ("ankle", ankle), ("heel", heel), ("foot_index", toe),
                             ("shoulder", sh), ("elbow", elbow), ("wrist", wrist),
                             ("pinky", wrist + [0.04 * L, 0.0]), ("index", wrist + [0.05 * L, 0.01 * L]),
                             ("thumb", wrist + [0.03 * L, 0.02 * L])):
                out[Landmark[f"{side}_{name}"]] = pt
        sh_mid = 0.5 * (out[Landmark.left_shoulder] + out[Landmark.right_shoulder])
        nose = sh_mid + np.array([0.14 * L, 0.30 * L])
        out[Landmark.nose] = nose
        for side in SIDES:
            dz = np.zeros(2) if side == near else np.array([-0.01 * L, 0.0])
            out[Landmark[f"{side}_eye_inner"]] = nose + [-0.02 * L, 0.035 * L] + dz
            out[Landmark[f"{side}_eye"]] = nose + [-0.03 * L, 0.037 * L] + dz
            out[Landmark[f"{side}_eye_outer"]] = nose + [-0.045 * L, 0.035 * L] + dz
            out[Landmark[f"{side}_ear"]] = nose + [-0.12 * L, 0.02 * L] + dz
        out[Landmark.mouth_left] = nose + [-0.01 * L, -0.04 * L]
        out[Landmark.mouth_right] = nose + [-0.015 * L, -0.04 * L]
        return out

    def contacts(self, t_content: np.ndarray, t_frame: np.ndarray, near: str, p: SynthParams) -> list[dict]:
        out = []
        for side in SIDES:
            for t_ic in self.ic_times(side == near, t_content[-1]):
                after = np.flatnonzero(t_content >= t_ic - 1e-9)
                if t_ic < t_content[0] or not len(after):
                    continue
                f = int(after[0])
                t_to = t_ic + self.tc_s
                on = np.flatnonzero(t_content < t_to - 1e-9)
                to_f = int(on[-1]) if t_to <= t_content[-1] else None
                out.append({
                    "foot": side, "near": side == near, "ic_frame": f,
                    "ic_time_s": float(t_ic), "toe_off_frame": to_f,
                    "toe_off_time_s": float(t_to) if to_f is not None else None,
                    "shin_angle_ic_deg": p.shin_angle_ic_deg, "foot_angle_ic_deg": float(np.rad2deg(self.theta_s)),
                })
        return sorted(out, key=lambda c: c["ic_frame"])


def _rot(v: np.ndarray, theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def _knee(hip: np.ndarray, ankle: np.ndarray, a: float, b: float) -> np.ndarray:
    """Two-link inverse kinematics; the knee on the forward side of the hip-ankle line."""
    d_vec = ankle - hip
    d = float(np.hypot(*d_vec))
    if d >= a + b - 1e-9:
        return hip + d_vec * a / d
    cos_al = np.clip((a * a + d * d - b * b) / (2 * a * d), -1.0, 1.0)
    return hip + _rot(d_vec / d * a, np.arccos(cos_al))


def _to_image(body: np.ndarray, p: SynthParams) -> np.ndarray:
    """Body frame (u, v up) -> picture pixels (x right, y down), tilted about the centre."""
    w, h = p.size
    x0 = 0.25 * w if (p.overground and p.faces > 0) else (0.75 * w if p.overground else 0.5 * w)
    bx = x0 + p.faces * body[..., 0]
    by = 0.86 * h - body[..., 1]
    a = np.deg2rad(p.tilt_deg)
    c, s = np.cos(a), np.sin(a)
    dx, dy = bx - w / 2, by - h / 2
    return np.stack([w / 2 + c * dx - s * dy, h / 2 + s * dx + c * dy], axis=-1)


def _observe(xy_true: np.ndarray, contacts: list[dict], near: str, p: SynthParams, rng):
    """What a pose model would report: noise, outliers, swaps, merges, drops; visibility and z."""
    xy = xy_true.copy()
    n = len(xy)
    far = other_side(near)
    vis = np.full((n, N_LANDMARKS), 0.97)
    z = np.zeros((n, N_LANDMARKS))
    for name in Landmark.__members__:
        if name.startswith(far):
            vis[:, Landmark[name]] = 0.75
            z[:, Landmark[name]] = 0.12
        elif name.startswith(near):
            z[:, Landmark[name]] = -0.12
    z += rng.normal(0.0, 0.03, z.shape)
    if p.noise_px:
        xy += rng.normal(0.0, p.noise_px, xy.shape)
    legs = {s: [int(Landmark[f"{s}_{q}"]) for q in ("hip",) + _LEG_PARTS] for s in SIDES}
    if p.outlier_rate:
        pts = np.array(legs["left"] + legs["right"])
        hit = rng.random((n, len(pts))) < p.outlier_rate
        ang = rng.uniform(0, 2 * np.pi, hit.shape)
        jump = 0.15 * p.leg_px * np.stack([np.cos(ang), np.sin(ang)], -1)
        xy[:, pts] += jump * hit[..., None]
    lower = {s: [int(Landmark[f"{s}_{q}"]) for q in _LEG_PARTS] for s in SIDES}
    if p.merge_far_ic_frames:
        for c in contacts:
            if c["foot"] == far:
                f = slice(c["ic_frame"], min(n, c["ic_frame"] + p.merge_far_ic_frames))
                xy[f, lower[far]] = xy[f, lower[near]] + rng.normal(0.0, 2.0, xy[f, lower[near]].shape)
    for first, count in p.swaps:
        f = slice(first, min(n, first + count))
        a, b = xy[f, lower["left"]].copy(), xy[f, lower["right"]].copy()
        xy[f, lower["left"]], xy[f, lower["right"]] = b, a
        for arr in (vis, z):  # the model's visibility and depth go with the points it mislabels
            va, vb = arr[f, lower["left"]].copy(), arr[f, lower["right"]].copy()
            arr[f, lower["left"]], arr[f, lower["right"]] = vb, va
    for f in p.dropped:
        xy[f] = np.nan
        vis[f] = 0.0
        z[f] = np.nan
    return xy, vis, z
