"""Canonical orientation and world (LPS mm) <-> voxel conversion of points and boxes.

Conventions (../shared/DESIGN.md): an affine maps a continuous voxel index (i, j, k), voxel i centred on i,
to patient LPS millimetres. The canonical array axes are (slice, row, column) as a radiologist reads the view.
"""

from __future__ import annotations

import itertools

import numpy as np

VIEWS = ("sagittal", "coronal", "axial")

# LPS unit direction of each canonical axis (slice, row, column) for each view.
CANONICAL_DIRECTIONS_LPS = {
    # slices patient right->left, rows superior->inferior, columns anterior->posterior
    "sagittal": np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]),
    # slices anterior->posterior, rows superior->inferior, columns patient right->left
    "coronal": np.array([[0, 1.0, 0], [0, 0, -1.0], [1.0, 0, 0]]),
    # slices superior->inferior, rows anterior->posterior, columns patient right->left
    "axial": np.array([[0, 0, -1.0], [0, 1.0, 0], [1.0, 0, 0]]),
}
# The LPS axis (0=x L, 1=y P, 2=z S) along which each view's slices are stacked.
VIEW_NORMAL_AXIS = {"sagittal": 0, "coronal": 1, "axial": 2}


def spacing_of(affine: np.ndarray) -> np.ndarray:
    """Voxel spacing in mm along each array axis: the lengths of the affine's columns."""
    return np.linalg.norm(np.asarray(affine, float)[:3, :3], axis=0)


def view_of_normal(normal_lps: np.ndarray) -> tuple[str, float]:
    """The view whose slice normal is nearest to `normal_lps`, and the tilt between them in degrees."""
    n = np.asarray(normal_lps, float)
    n = n / np.linalg.norm(n)
    axis = int(np.argmax(np.abs(n)))
    view = {0: "sagittal", 1: "coronal", 2: "axial"}[axis]
    tilt = float(np.degrees(np.arccos(np.clip(abs(n[axis]), 0.0, 1.0))))
    return view, tilt


def guess_slice_axis(affine: np.ndarray, shape: tuple[int, ...]) -> int:
    """The array axis along which slices are stacked: the coarsest spacing, else (isotropic) the fewest voxels."""
    spacing = spacing_of(affine)
    if spacing.max() > 1.1 * spacing.min():
        return int(np.argmax(spacing))
    return int(np.argmin(shape[:3]))


def canonical_transform(affine: np.ndarray, view: str) -> tuple[tuple[int, int, int], tuple[bool, bool, bool]]:
    """The axis permutation and flips that bring an array with `affine` to the canonical order of `view`.

    Returns (perm, flips): canonical axis c is array axis perm[c], reversed where flips[c].
    The permutation maximises the summed |cosine| between array axes and the view's target directions,
    so oblique stacks go to the nearest canonical orientation.
    """
    directions = np.asarray(affine, float)[:3, :3] / spacing_of(affine)
    target = CANONICAL_DIRECTIONS_LPS[view]
    best = max(
        itertools.permutations(range(3)),
        key=lambda p: sum(abs(float(directions[:, p[c]] @ target[c])) for c in range(3)),
    )
    flips = tuple(bool(directions[:, best[c]] @ target[c] < 0) for c in range(3))
    return tuple(best), flips


def reoriented_affine(affine: np.ndarray, shape: tuple[int, ...], perm, flips) -> np.ndarray:
    """The affine of an array of `shape` after permuting and flipping its axes, keeping world positions."""
    affine = np.asarray(affine, float)
    new_affine = np.eye(4)
    new_affine[:3, 3] = affine[:3, 3]
    for c, (a, flip) in enumerate(zip(perm, flips)):
        column = affine[:3, a]
        if flip:
            new_affine[:3, 3] += (shape[a] - 1) * column
            column = -column
        new_affine[:3, c] = column
    return new_affine


def reorient(array: np.ndarray, affine: np.ndarray, perm, flips) -> tuple[np.ndarray, np.ndarray]:
    """Permute and flip array axes, returning the new array and the affine that keeps world positions."""
    out = np.transpose(array, tuple(perm))
    new_affine = reoriented_affine(affine, array.shape, perm, flips)
    flip_axes = tuple(c for c in range(3) if flips[c])
    if flip_axes:
        out = np.flip(out, axis=flip_axes)
    return np.ascontiguousarray(out), new_affine


def to_canonical(array: np.ndarray, affine: np.ndarray, view: str) -> tuple[np.ndarray, np.ndarray]:
    """Bring `array` to the canonical (slice, row, column) order of `view` by permutations and flips only."""
    perm, flips = canonical_transform(affine, view)
    return reorient(array, affine, perm, flips)


def voxel_to_world(points_voxel: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Continuous voxel indices (..., 3) to LPS mm (..., 3)."""
    p = np.asarray(points_voxel, float)
    a = np.asarray(affine, float)
    return p @ a[:3, :3].T + a[:3, 3]


def world_to_voxel(points_lps: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """LPS mm (..., 3) to continuous voxel indices (..., 3)."""
    p = np.asarray(points_lps, float)
    a = np.asarray(affine, float)
    return np.linalg.solve(a[:3, :3], (p - a[:3, 3]).reshape(-1, 3).T).T.reshape(p.shape)


def box_corners(box: np.ndarray) -> np.ndarray:
    """The 8 corners (8, 3) of an axis-aligned box [x0, y0, z0, x1, y1, z1]."""
    b = np.asarray(box, float)
    lo, hi = b[:3], b[3:]
    return np.array([[(lo, hi)[s][d] for d, s in enumerate(bits)] for bits in itertools.product((0, 1), repeat=3)])


def _bounding_box(points: np.ndarray) -> np.ndarray:
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def box_voxel_to_world(box_voxel: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """A voxel-corner box to the LPS bounding box of its 8 transformed corners."""
    return _bounding_box(voxel_to_world(box_corners(box_voxel), affine))


def box_world_to_voxel(box_lps: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """An LPS box to the voxel-corner bounding box of its 8 transformed corners."""
    return _bounding_box(world_to_voxel(box_corners(box_lps), affine))


def voxel_box_of_mask(mask: np.ndarray) -> np.ndarray:
    """The voxel-corner box [i0-0.5, j0-0.5, k0-0.5, i1+0.5, j1+0.5, k1+0.5] around a mask's true voxels."""
    idx = np.argwhere(mask)
    if idx.size == 0:
        raise ValueError("empty mask has no box")
    return np.concatenate([idx.min(axis=0) - 0.5, idx.max(axis=0) + 0.5]).astype(float)
