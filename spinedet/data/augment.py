"""Training augmentation that keeps boxes right: window shifts, left-right flips, in-plane rotation and scale,
tilts, intensity, noise, bias, blur."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import affine_transform, gaussian_filter

# The canonical axis that runs patient right -> left in each view (flipping it mirrors the patient).
LEFT_RIGHT_AXIS = {"sagittal": 0, "axial": 2, "coronal": 2}


def flip_boxes(boxes: np.ndarray, axis: int, size: int) -> np.ndarray:
    """Corner boxes after reversing `axis` of length `size`: index i goes to size - 1 - i."""
    out = boxes.copy()
    out[:, axis], out[:, axis + 3] = size - 1 - boxes[:, axis + 3], size - 1 - boxes[:, axis]
    return out


def transform_boxes(boxes: np.ndarray, matrix: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Corner boxes mapped by x -> centre + matrix (x - centre): the enclosing box of each box's 8 mapped corners.

    (MONAI's apply_affine_to_boxes maps two corners, which is exact for flips and zooms but not for rotations.)
    """
    upper = np.array(list(np.ndindex(2, 2, 2)), dtype=bool)  # (8, 3): which corners take the box's upper end
    corners = np.where(upper[None], boxes[:, None, 3:], boxes[:, None, :3])  # (N, 8, 3)
    mapped = (corners - centre) @ matrix.T + centre
    return np.concatenate([mapped.min(axis=1), mapped.max(axis=1)], axis=1).reshape(-1, 6)


def rotate_and_scale(array: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, max_deg: float,
                     max_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate by up to +-max_deg in the (row, column) plane and zoom by 1 +- max_scale about the volume centre.

    Rows and columns share one spacing in both shipped configs, so there the rotation is rigid in mm; the
    slice axis is left alone (thick slices). Voxels leaving the volume are filled with 0 (the normalised
    background); boxes become the enclosing boxes of their rotated corners.
    """
    angle = np.deg2rad(rng.uniform(-max_deg, max_deg))
    zoom = rng.uniform(1 - max_scale, 1 + max_scale)
    matrix = np.eye(3)
    matrix[1:, 1:] = zoom * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = (np.asarray(array.shape) - 1) / 2
    inverse = np.linalg.inv(matrix)  # affine_transform maps each output voxel back to the input
    out = affine_transform(array, inverse, offset=centre - inverse @ centre, order=1, mode="constant", cval=0.0)
    return out.astype(np.float32), transform_boxes(boxes, matrix, centre)


def clip_boxes(boxes: np.ndarray, labels: np.ndarray, shape, min_kept: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Boxes clipped to the volume [-0.5, n - 0.5]; boxes keeping less than `min_kept` of their volume are dropped."""
    lo, hi = np.full(3, -0.5), np.asarray(shape, float) - 0.5
    clipped = np.concatenate([np.clip(boxes[:, :3], lo, hi), np.clip(boxes[:, 3:], lo, hi)], axis=1)
    volume = lambda b: np.clip(b[:, 3:] - b[:, :3], 0, None).prod(axis=1)  # noqa: E731
    keep = volume(clipped) >= min_kept * np.maximum(volume(boxes), 1e-9)
    return clipped[keep], labels[keep]


def bias_field(shape, rng: np.random.Generator, strength: float) -> np.ndarray:
    """A smooth multiplicative field exp(sum of random linear and quadratic terms), about 1 +- strength."""
    grids = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    log_field = sum(rng.uniform(-1, 1) * g + rng.uniform(-1, 1) * g**2 for g in grids)
    return np.exp(strength * log_field / 3).astype(np.float32)


def tilt_window(array: np.ndarray, points: np.ndarray, extents: np.ndarray, angle_deg: float, axes: tuple[int, int],
                spacing_mm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A window turned about its centre by `angle_deg` in the plane of `axes`, rigidly in mm (as an acquisition
    tilted about the left-right axis would show it): the array (linear, blank outside), points (N, 3 voxel) and
    their box extents (N, 3 voxels; the enclosing extent of the turned box)."""
    a, b = axes
    c, s = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    turn = np.eye(3)
    turn[[a, a, b, b], [a, b, a, b]] = c, -s, s, c
    spacing = np.asarray(spacing_mm, float)
    matrix = turn * spacing[None, :] / spacing[:, None]  # voxel map: diag(1 / spacing) @ turn @ diag(spacing)
    centre = (np.asarray(array.shape) - 1) / 2
    inverse = np.linalg.inv(matrix)  # affine_transform maps each output index to the input index it reads
    out = affine_transform(array, inverse, offset=centre - inverse @ centre, order=1, cval=0.0)
    points = (np.asarray(points, float).reshape(-1, 3) - centre) @ matrix.T + centre
    return out.astype(array.dtype), points, np.asarray(extents, float).reshape(-1, 3) @ np.abs(matrix).T


def augment_intensity(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Contrast (gamma), scale and shift, bias field, through-plane blur and Gaussian noise, as centres differ."""
    x = np.clip(array, 0, None) ** rng.uniform(0.7, 1.4)
    x = x * bias_field(x.shape, rng, rng.uniform(0.0, 0.3))
    if rng.random() < 0.3:
        sigma = np.zeros(3)
        sigma[rng.integers(3)] = rng.uniform(0.3, 1.0)
        x = gaussian_filter(x, sigma)
    x = x * rng.uniform(0.8, 1.2) + rng.uniform(-0.1, 0.1)
    return (x + rng.normal(0, rng.uniform(0.0, 0.06), x.shape)).astype(np.float32)


def augment_crops(crops: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Intensity augmentation of the K crops of one scan (K, D, H, W): contrast, scale, shift and blur shared by
    all crops (the levels of a scan stay comparable), a bias field and noise of each crop's own."""
    gamma, scale, shift = rng.uniform(0.7, 1.4), rng.uniform(0.8, 1.2), rng.uniform(-0.1, 0.1)
    noise, bias = rng.uniform(0.0, 0.06), rng.uniform(0.0, 0.2)
    sigma = np.zeros(4)
    if rng.random() < 0.3:
        sigma[1 + rng.integers(3)] = rng.uniform(0.3, 1.0)
    x = np.clip(crops, 0, None) ** gamma
    x = x * np.stack([bias_field(x.shape[1:], rng, bias) for _ in range(len(x))])
    if sigma.any():
        x = gaussian_filter(x, sigma)
    x = x * scale + shift
    return (x + rng.normal(0, noise, x.shape)).astype(np.float32)
