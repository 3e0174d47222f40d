"""The crops the level judge sees: one per disc, on a volume resampled to the crop spacing, with the affines
that take its boxes back to the scan and to LPS mm."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from spinedet.data.crops import crop_affine, disc_frame, sample_crops, scan_directions, spine_normals


@dataclass
class CropVolume:
    """A scan resampled to the crop spacing: normalised array, its voxel -> LPS affine, and the scan's view."""

    array: np.ndarray
    affine: np.ndarray
    view: str


@dataclass
class DiscCrops:
    """K crops (K, D, H, W) and, per crop, its voxel -> LPS affine (K, 4, 4) and its centre (K, 3) in LPS."""

    crops: torch.Tensor
    crop_to_world: np.ndarray
    centres_lps: np.ndarray


def resampled_affine(scan_affine: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """The voxel -> LPS affine of a volume resampled with `factor` (scan voxels per resampled voxel; voxel o is
    centred on scan index (o + 0.5) * factor - 0.5)."""
    to_scan = np.eye(4)
    to_scan[:3, :3] = np.diag(factor)
    to_scan[:3, 3] = 0.5 * np.asarray(factor) - 0.5
    return np.asarray(scan_affine, float) @ to_scan


def crop_affines(volume: CropVolume, centres_lps: np.ndarray, crop: dict, rng: np.random.Generator | None = None,
                 jitter: dict | None = None, window: slice = slice(None)) -> np.ndarray:
    """Crop voxel -> LPS affines (K, 4, 4) for the discs `window` picks of those at `centres_lps` (all of a scan's,
    head to foot), each turned to the normal its neighbours give. With `rng`, centres move, normals turn about the
    left-right axis, the spacing scales and crops may mirror left-right, by the ranges in `jitter` (shift_mm,
    rotate_deg, scale_frac, flip)."""
    left, superior = scan_directions(volume.affine, volume.view)
    normals = spine_normals(centres_lps, superior)[window]
    centres_lps = np.asarray(centres_lps, float).reshape(-1, 3)[window]
    out = []
    for centre, normal in zip(centres_lps, normals):
        spacing = np.asarray(crop["spacing_mm"], float)
        frame = disc_frame(normal, left)
        if rng is not None and jitter:
            centre = centre + rng.normal(0.0, jitter.get("shift_mm", 0.0), 3)
            angle = np.deg2rad(rng.uniform(-1, 1) * jitter.get("rotate_deg", 0.0))
            frame = disc_frame(np.cos(angle) * frame["w"] + np.sin(angle) * frame["u"], left)
            spacing = spacing * (1 + rng.uniform(-1, 1) * jitter.get("scale_frac", 0.0))
            if jitter.get("flip") and rng.random() < 0.5:
                frame = {**frame, "v": -frame["v"]}
        out.append(crop_affine(centre, frame, volume.view, spacing, crop["shape"], crop.get("offset_mm", (0, 0))))
    return np.array(out).reshape(-1, 4, 4)


def disc_crops(volume: CropVolume, centres_lps: np.ndarray, crop: dict, rng: np.random.Generator | None = None,
               jitter: dict | None = None, window: slice = slice(None)) -> DiscCrops:
    """The crops of the discs `window` picks of those at `centres_lps` (all of a scan's, ordered head to foot: a
    disc's neighbours set its crop's orientation, so a window takes them from the whole scan, as inference does)."""
    affines = crop_affines(volume, centres_lps, crop, rng, jitter, window)
    to_volume = np.linalg.inv(volume.affine) @ affines
    crops = sample_crops(volume.array, to_volume, crop["shape"])
    return DiscCrops(crops, affines, np.asarray(centres_lps, float).reshape(-1, 3)[window])


def _centres_and_extent(crop_to_world: np.ndarray, crop: dict) -> tuple[np.ndarray, float]:
    """Each crop's centre (K, 3) in LPS and the largest extent (mm) of the crop grid."""
    shape = np.asarray(crop["shape"], float)
    a = np.asarray(crop_to_world, float).reshape(-1, 4, 4)
    return a[:, :3, :3] @ ((shape - 1) / 2) + a[:, :3, 3], float(np.max(shape * np.asarray(crop["spacing_mm"], float)))


def loss_frame(crop_to_world: np.ndarray, crop: dict) -> np.ndarray:
    """Per crop (K, 4, 4): crop voxel -> LPS mm about the crop centre, divided by the crop's largest extent: the
    frame in which box losses are taken (world-aligned, as the evaluation's boxes are)."""
    centres, extent = _centres_and_extent(crop_to_world, crop)
    out = np.array(crop_to_world, float).reshape(-1, 4, 4)
    out[:, :3, 3] -= centres
    out[:, :3, :] /= extent
    return out


def world_boxes_in_frame(boxes_lps: np.ndarray, crop_to_world: np.ndarray, crop: dict) -> np.ndarray:
    """LPS boxes (K, ..., 6), one set per crop, in that crop's loss frame (a shift and a scale: exact)."""
    centres, extent = _centres_and_extent(crop_to_world, crop)
    boxes = np.asarray(boxes_lps, float)
    shift = np.concatenate([centres, centres], axis=-1).reshape(len(centres), *([1] * (boxes.ndim - 2)), 6)
    return (boxes - shift) / extent
