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

    Row ``i`` is decoded frame ``i`` (0-based).
    """

    xy_px: np.ndarray
    visibility: np.ndarray
    t_s: np.ndarray
    size: tuple[int, int] = (0, 0)
    meta: dict = field(default_factory=dict)

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

    def __len__(self) -> int:
        return len(self.t_s)

    def __getitem__(self, frames) -> "PoseTrack":
        """Select frames by slice, index array or boolean mask."""
        idx = np.arange(len(self))[frames]
        idx = np.atleast_1d(idx)
        return PoseTrack(self.xy_px[idx], self.visibility[idx], self.t_s[idx], self.size, dict(self.meta))

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
        )

    @classmethod
    def load(cls, path: str | Path) -> "PoseTrack":
        with np.load(path, allow_pickle=False) as z:
            return cls(z["xy_px"].astype(float), z["visibility"].astype(float), z["t_s"], tuple(z["size"].tolist()))
