"""``PoseTrack``: per-frame landmark positions, the container every measure reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metrics.landmarks import N_LANDMARKS

__all__ = ["PoseTrack"]


@dataclass(frozen=True, eq=False)
class PoseTrack:
    """Landmarks of one runner over a clip.

    Attributes
    ----------
    xy_px : (T, K, 2) float array
        Pixel coordinates in the upright picture (x right, y down); NaN where the
        landmark was not seen.
    visibility : (T, K) float array
        Model visibility in [0, 1]; 0 where not seen.
    t_s : (T,) float array
        Real-world time of each frame in seconds (from its own timestamp).
    size : (width, height) of the upright picture in pixels.
    z : (T, K) float array or None
        Model depth per landmark (MediaPipe: roughly hip-centred, same scale as x in
        normalised units, smaller = nearer the camera); NaN where not seen.
    repeated : (T,) bool array or None
        True where the frame's picture repeats the previous frame (phone exports that
        duplicate frames); such rows carry no new information about motion.

    Row ``i`` is decoded frame ``i`` (0-based).
    """

    xy_px: np.ndarray
    visibility: np.ndarray
    t_s: np.ndarray
    size: tuple[int, int] = (0, 0)
    meta: dict = field(default_factory=dict)
    z: np.ndarray | None = None
    repeated: np.ndarray | None = None

    def __post_init__(self) -> None:
        xy = np.asarray(self.xy_px, dtype=float)
        vis = np.asarray(self.visibility, dtype=float)
        t = np.asarray(self.t_s, dtype=float)
        if xy.ndim != 3 or xy.shape[2] != 2:
            raise ValueError(f"xy_px must have shape (T, K, 2), got {xy.shape}")
        if vis.shape != xy.shape[:2]:
            raise ValueError(f"visibility must have shape {xy.shape[:2]}, got {vis.shape}")
        if t.shape != (xy.shape[0],):
            raise ValueError(f"t_s must have shape ({xy.shape[0]},), got {t.shape}")
        if len(t) > 1 and np.any(np.diff(t) < 0):
            raise ValueError("t_s must not decrease")
        object.__setattr__(self, "xy_px", xy)
        object.__setattr__(self, "visibility", vis)
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "size", (int(self.size[0]), int(self.size[1])))
        z = np.full(vis.shape, np.nan) if self.z is None else np.asarray(self.z, dtype=float)
        if z.shape != vis.shape:
            raise ValueError(f"z must have shape {vis.shape}, got {z.shape}")
        rep = np.zeros(len(t), bool) if self.repeated is None else np.asarray(self.repeated, dtype=bool)
        if rep.shape != t.shape:
            raise ValueError(f"repeated must have shape {t.shape}, got {rep.shape}")
        object.__setattr__(self, "z", z)
        object.__setattr__(self, "repeated", rep)

    def __len__(self) -> int:
        return len(self.t_s)

    def __getitem__(self, frames) -> "PoseTrack":
        """Select frames by slice, index array or boolean mask."""
        idx = np.arange(len(self))[frames]
        idx = np.atleast_1d(idx)
        return PoseTrack(self.xy_px[idx], self.visibility[idx], self.t_s[idx], self.size, dict(self.meta),
                         self.z[idx], self.repeated[idx])

    def replace(self, **changes) -> "PoseTrack":
        """A copy with some fields replaced (arrays are not copied)."""
        fields = dict(xy_px=self.xy_px, visibility=self.visibility, t_s=self.t_s, size=self.size,
                      meta=dict(self.meta), z=self.z, repeated=self.repeated)
        fields.update(changes)
        return PoseTrack(**fields)

    @property
    def n_landmarks(self) -> int:
        return self.xy_px.shape[1]

    @classmethod
    def empty(cls, t_s: np.ndarray, size=(0, 0), n_landmarks: int = N_LANDMARKS) -> "PoseTrack":
        t = np.asarray(t_s, float)
        return cls(np.full((len(t), n_landmarks, 2), np.nan), np.zeros((len(t), n_landmarks)), t, size)

    def point(self, index: int) -> np.ndarray:
        """(T, 2) positions of one landmark."""
        return self.xy_px[:, int(index), :]

    def save(self, path: str | Path) -> None:
        """Write a compressed ``.npz`` (numbers only: no pickles)."""
        np.savez_compressed(
            path,
            xy_px=self.xy_px.astype(np.float32),
            visibility=self.visibility.astype(np.float32),
            t_s=self.t_s,
            size=np.array(self.size, dtype=np.int64),
            z=self.z.astype(np.float32),
            repeated=self.repeated,
        )

    @classmethod
    def load(cls, path: str | Path) -> "PoseTrack":
        with np.load(path, allow_pickle=False) as z:
            return cls(z["xy_px"].astype(float), z["visibility"].astype(float), z["t_s"], tuple(z["size"].tolist()),
                       z=z["z"].astype(float) if "z" in z else None,
                       repeated=z["repeated"] if "repeated" in z else None)
