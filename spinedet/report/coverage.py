"""Which world points a scan images: its voxel grid's extent, whatever the stack's obliquity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinedet.io import geometry


@dataclass(frozen=True)
class Extent:
    """A scan's canonical-voxel -> LPS mm affine and its (slice, row, column) shape."""

    affine: np.ndarray
    shape: tuple[int, int, int]

    @classmethod
    def of(cls, scan) -> "Extent":
        return cls(np.asarray(scan.affine, float), tuple(int(s) for s in scan.shape))

    def covers(self, point_lps) -> bool:
        """Whether an LPS point (mm) lies inside the scan's voxels (voxel i spans [i-0.5, i+0.5] on every axis)."""
        voxel = geometry.world_to_voxel(np.asarray(point_lps, float)[None], self.affine)[0]
        return bool(np.all(voxel >= -0.5) and np.all(voxel <= np.asarray(self.shape) - 0.5))
