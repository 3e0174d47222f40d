"""Scan -> model input: resample on all three axes to the model spacing, normalise, crop or pad to its shape."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

from spinedet.io.scan import Scan

INTENSITY_PERCENTILES = (1.0, 99.0)


@dataclass
class ModelInput:
    """The model's input volume and the affine from its voxel indices to the scan's canonical voxel indices."""

    array: np.ndarray  # float32 (D, H, W)
    model_to_scan: np.ndarray  # 4x4


def normalise(array: np.ndarray) -> np.ndarray:
    """Robust per-scan intensity normalisation: the 1st..99th percentiles of the scan map to 0..1."""
    low, high = np.percentile(array, INTENSITY_PERCENTILES)
    return ((array - low) / max(float(high - low), 1e-6)).astype(np.float32)


def resampled_shape(shape, spacing_mm, target_spacing_mm) -> np.ndarray:
    """The shape `resample` gives a volume of `shape` at `spacing_mm` (at least one voxel per axis)."""
    target = np.asarray(target_spacing_mm, float)
    return np.maximum(1, np.round(np.asarray(shape) * np.asarray(spacing_mm, float) / target)).astype(int)


def resample(array: np.ndarray, spacing_mm, target_spacing_mm) -> tuple[np.ndarray, np.ndarray]:
    """Trilinear resampling to the target spacing (Gaussian anti-aliasing where it shrinks), and the factor
    per axis (input voxels per output voxel): output voxel o is centred on input index (o + 0.5) * f - 0.5."""
    out_shape = resampled_shape(array.shape, spacing_mm, target_spacing_mm)
    factor = np.asarray(array.shape) / out_shape
    sigma = np.where(factor > 1, 0.4 * factor, 0.0)
    smoothed = gaussian_filter(array, sigma) if sigma.any() else array
    tensor = torch.from_numpy(np.ascontiguousarray(smoothed, dtype=np.float32))[None, None]
    out = F.interpolate(tensor, size=tuple(int(s) for s in out_shape), mode="trilinear", align_corners=False)
    return out[0, 0].numpy(), factor


def crop_or_pad(array: np.ndarray, shape, start) -> np.ndarray:
    """The window [start, start + shape) of `array`, zero outside it."""
    out = np.zeros(tuple(shape), np.float32)
    src = [slice(max(0, s), min(n, s + w)) for s, n, w in zip(start, array.shape, shape)]
    dst = [slice(a.start - s, a.stop - s) for a, s in zip(src, start)]
    out[tuple(dst)] = array[tuple(src)]
    return out


def window(resampled: np.ndarray, factor: np.ndarray, shape, offset_vox=(0, 0, 0)) -> ModelInput:
    """The centred `shape` window of a resampled volume, shifted by `offset_vox`, with its model_to_scan affine."""
    start = [(n - w) // 2 + int(o) for n, w, o in zip(resampled.shape, shape, offset_vox)]
    model_to_scan = np.eye(4)
    for axis in range(3):
        model_to_scan[axis, axis] = factor[axis]
        model_to_scan[axis, 3] = (start[axis] + 0.5) * factor[axis] - 0.5
    return ModelInput(crop_or_pad(resampled, shape, start), model_to_scan)


def prepare(scan: Scan, spacing_mm, shape, offset_vox=(0, 0, 0)) -> ModelInput:
    """Resample, normalise and centre-crop/pad `scan` to `shape` at `spacing_mm`; `offset_vox` shifts the window."""
    resampled, factor = resample(scan.array, scan.spacing_mm, spacing_mm)
    return window(normalise(resampled), factor, shape, offset_vox)
