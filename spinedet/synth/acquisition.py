"""Where each T2 stack is placed on the patient: sagittal and contiguous axial grids in canonical order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinedet.io.geometry import CANONICAL_DIRECTIONS_LPS
from spinedet.synth.anatomy import Spine, disc_of_level
from spinedet.synth.scanner import CentreProfile


@dataclass
class Stack:
    """A stack's voxel grid: canonical (slice, row, column) shape, index -> LPS affine, slice thickness."""

    view: str
    shape: tuple[int, int, int]
    affine: np.ndarray
    thickness_mm: float

    def axis_coords(self, sub_slices: int) -> list[tuple[int, np.ndarray]]:
        """Per array axis: (world axis, world coordinates of its samples); slices get `sub_slices` samples each."""
        out = []
        for a in range(3):
            column = self.affine[:3, a]
            world_axis = int(np.argmax(np.abs(column)))
            step = column[world_axis]
            idx = np.arange(self.shape[a], dtype=float)
            if a == 0:
                spacing = abs(step)
                offsets = (-0.5 + (np.arange(sub_slices) + 0.5) / sub_slices) * self.thickness_mm / spacing
                idx = (idx[:, None] + offsets[None, :]).ravel()
            out.append((world_axis, self.affine[world_axis, 3] + step * idx))
        return out


def _stack(view: str, center_lps: np.ndarray, shape: tuple[int, int, int], spacing_mm: tuple, thickness_mm: float):
    directions = CANONICAL_DIRECTIONS_LPS[view]
    affine = np.eye(4)
    affine[:3, :3] = directions.T * np.asarray(spacing_mm, float)
    affine[:3, 3] = center_lps - affine[:3, :3] @ ((np.asarray(shape, float) - 1) / 2)
    return Stack(view, shape, affine, thickness_mm)


def sagittal_stack(spine: Spine, profile: CentreProfile, rng: np.random.Generator) -> Stack:
    """Slices across the midline; field of view centred on the mid-lumbar (or mid-cervical) spine."""
    p = profile.sagittal
    middle = "L3" if spine.region == "lumbar" else "C5"
    v = next(v for v in spine.vertebrae if v.name == middle)
    shift_z = 0.0 if spine.region == "lumbar" else 12.0
    center = v.frame.origin + np.array([rng.normal(0, 1.5), 12.0 + rng.normal(0, 6), shift_z + rng.normal(0, 8)])
    n = int(round(p.fov_mm / p.pixel_mm))
    return _stack("sagittal", center, (p.slices, n, n), (p.thickness_mm + p.gap_mm, p.pixel_mm, p.pixel_mm),
                  p.thickness_mm)


def axial_stack(spine: Spine, profile: CentreProfile, rng: np.random.Generator) -> Stack:
    """A contiguous axial stack from just above the first to just below the last disc of the protocol."""
    p = profile.axial
    first, last = (disc_of_level(spine, lv) for lv in profile.axial_levels)
    z_top = first.frame.origin[2] + first.height_mm / 2 + 8.0
    z_bottom = last.frame.origin[2] - last.height_mm / 2 - 8.0
    n_slices = int(np.ceil((z_top - z_bottom) / p.thickness_mm)) + 1
    mid = 0.5 * (first.frame.origin + last.frame.origin)
    canal_y = mid[1] + 0.5 * first.depth_mm + (10.0 if spine.region == "lumbar" else 6.0)
    center = np.array([rng.normal(0, 2.0), canal_y + rng.normal(0, 4), 0.5 * (z_top + z_bottom)])
    n = int(round(p.fov_mm / p.pixel_mm))
    return _stack("axial", center, (n_slices, n, n), (p.thickness_mm + p.gap_mm, p.pixel_mm, p.pixel_mm),
                  p.thickness_mm)
