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

    def slice_positions(self, sub_slices: int) -> np.ndarray:
        """Continuous slice indices of the sub-slice planes: `sub_slices` evenly through each slice's thickness."""
        spacing = float(np.linalg.norm(self.affine[:3, 0]))
        offsets = (-0.5 + (np.arange(sub_slices) + 0.5) / sub_slices) * self.thickness_mm / spacing
        return (np.arange(self.shape[0], dtype=float)[:, None] + offsets[None, :]).ravel()


def _stack(view: str, center_lps: np.ndarray, shape: tuple[int, int, int], spacing_mm: tuple, thickness_mm: float,
           tilt_rad: float = 0.0):
    """A stack in the view's canonical axes, rotated by `tilt_rad` about the patient's left-right axis."""
    c, s = np.cos(tilt_rad), np.sin(tilt_rad)
    rotation = np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])
    directions = CANONICAL_DIRECTIONS_LPS[view] @ rotation.T
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
    """A contiguous axial stack from just above the first to just below the last disc of the protocol,
    tilted to the mean plane of those discs (at most 15 deg) where the centre angles its axials."""
    p = profile.axial
    first, last = (disc_of_level(spine, lv) for lv in profile.axial_levels)
    names = [d.level for d in spine.discs]
    covered = spine.discs[names.index(first.level): names.index(last.level) + 1]
    tilt = 0.0
    if profile.axial_tilt:
        tilt = float(np.clip(np.mean([np.arctan2(-d.frame.w[1], d.frame.w[2]) for d in covered]), -0.26, 0.26))
    normal = np.array([0.0, -np.sin(tilt), np.cos(tilt)])  # superior normal of the tilted slices
    top = first.frame.origin @ normal + first.height_mm / 2 + 8.0
    bottom = last.frame.origin @ normal - last.height_mm / 2 - 8.0
    n_slices = int(np.ceil((top - bottom) / p.thickness_mm)) + 1
    mid = 0.5 * (first.frame.origin + last.frame.origin)
    canal = mid + (0.5 * first.depth_mm + (10.0 if spine.region == "lumbar" else 6.0)) * first.frame.u
    center = canal + normal * (0.5 * (top + bottom) - canal @ normal)
    center = center + np.array([rng.normal(0, 2.0), rng.normal(0, 4), 0.0])
    n = int(round(p.fov_mm / p.pixel_mm))
    return _stack("axial", center, (n_slices, n, n), (p.thickness_mm + p.gap_mm, p.pixel_mm, p.pixel_mm),
                  p.thickness_mm, tilt)
