"""The Scan: one image volume in canonical orientation with its exact geometry."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spinedet.io import geometry


@dataclass
class Scan:
    """A float32 volume in canonical (slice, row, column) order and its canonical-voxel -> LPS mm affine."""

    array: np.ndarray
    affine: np.ndarray
    view: str
    region: str | None = None
    tilt_deg: float = 0.0
    source: str = ""
    meta: dict = field(default_factory=dict)  # non-identifying: series UID, description, modality, ...

    @property
    def spacing_mm(self) -> np.ndarray:
        """Voxel spacing in mm along (slice, row, column)."""
        return geometry.spacing_of(self.affine)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.array.shape)

    @classmethod
    def from_array(
        cls,
        array: np.ndarray,
        affine: np.ndarray,
        *,
        slice_axis: int | None = None,
        view: str | None = None,
        region: str | None = None,
        source: str = "",
        meta: dict | None = None,
    ) -> "Scan":
        """Build a canonical Scan from an array in any axis order and its index -> LPS affine.

        The view comes from the slice normal (the `slice_axis` column of the affine, guessed when not given)
        unless `view` is given; the array is permuted and flipped, never resampled.
        """
        array = np.asarray(array)
        affine = np.asarray(affine, float)
        if slice_axis is None:
            slice_axis = geometry.guess_slice_axis(affine, array.shape)
        normal = affine[:3, slice_axis]
        detected_view, tilt = geometry.view_of_normal(normal)
        view = view or detected_view
        if view not in geometry.VIEWS:
            raise ValueError(f"unknown view {view!r}")
        tilt = float(np.degrees(np.arccos(min(1.0, abs(normal[geometry.VIEW_NORMAL_AXIS[view]]) / np.linalg.norm(normal)))))
        canon, canon_affine = geometry.to_canonical(array, affine, view)
        return cls(
            array=canon.astype(np.float32, copy=False),
            affine=canon_affine,
            view=view,
            region=region,
            tilt_deg=tilt,
            source=source,
            meta=dict(meta or {}),
        )

    def describe(self) -> dict:
        """A JSON-ready summary of what was loaded (what `spinedet inspect --json` prints)."""
        return {
            "path": self.source,
            "series_uid": self.meta.get("series_uid"),
            "view": self.view,
            "region": self.region,
            "tilt_deg": round(self.tilt_deg, 3),
            "shape": list(self.shape),
            "spacing_mm": [float(s) for s in self.spacing_mm],
            "affine": [[float(v) for v in row] for row in self.affine],
            "description": self.meta.get("description", ""),
        }
