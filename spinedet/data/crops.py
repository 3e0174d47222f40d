"""Disc-aligned crops: a voxel grid around one disc, turned so that the disc lies along its rows, sampled from a
scan through one affine (crop voxel -> LPS mm), and boxes mapped back through the same affine.

The disc frame: w, the disc normal (towards the head); v, the scan's right->left axis made orthogonal to w;
u = w x v, towards the patient's back. A crop's axes follow its view's canonical order in that frame (sagittal:
v, -w, u; axial: -w, u, v), so a crop of a tilted disc looks like a crop of an upright one.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# Each crop axis as (disc-frame axis, sign), in the view's canonical (slice, row, column) order.
CROP_AXES = {"sagittal": (("v", 1), ("w", -1), ("u", 1)), "axial": (("w", -1), ("u", 1), ("v", 1))}
LEFT_RIGHT_AXIS = {"sagittal": 0, "axial": 2}  # the canonical axis running patient right -> left
SUPERIOR_AXIS = {"sagittal": (1, -1), "axial": (0, -1)}  # (canonical axis, sign) pointing to the head


def _unit(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, float) / max(float(np.linalg.norm(v)), 1e-12)


def disc_frame(normal_lps: np.ndarray, left_lps: np.ndarray) -> dict[str, np.ndarray]:
    """Unit axes u (posterior), v (left), w (the disc normal, superior) in LPS."""
    w = _unit(normal_lps)
    v = _unit(np.asarray(left_lps, float) - (np.asarray(left_lps, float) @ w) * w)
    return {"u": np.cross(w, v), "v": v, "w": w}


def scan_directions(affine: np.ndarray, view: str) -> tuple[np.ndarray, np.ndarray]:
    """(left, superior) unit directions in LPS of a canonical scan's axes."""
    directions = np.asarray(affine, float)[:3, :3] / np.linalg.norm(np.asarray(affine, float)[:3, :3], axis=0)
    axis, sign = SUPERIOR_AXIS[view]
    return directions[:, LEFT_RIGHT_AXIS[view]], sign * directions[:, axis]


def spine_normals(centres_lps: np.ndarray, superior_lps: np.ndarray) -> np.ndarray:
    """A normal per disc (N, 3) from its neighbours along the spine (centres ordered head to foot): the direction
    from the disc below to the disc above (one-sided at the ends; the scan's superior axis for a lone disc)."""
    c = np.asarray(centres_lps, float).reshape(-1, 3)
    if len(c) < 2:
        return np.tile(_unit(superior_lps), (len(c), 1))
    above = np.concatenate([c[:1], c[:-1]])
    below = np.concatenate([c[1:], c[-1:]])
    normals = np.array([_unit(a - b) for a, b in zip(above, below)])
    flip = normals @ _unit(superior_lps) < 0
    normals[flip] *= -1
    return normals


def crop_affine(centre_lps: np.ndarray, frame: dict[str, np.ndarray], view: str, spacing_mm, shape,
                offset_mm=(0.0, 0.0)) -> np.ndarray:
    """Crop voxel index -> LPS mm (4x4) of a `shape` grid at `spacing_mm`, centred `offset_mm` = (superior,
    posterior) mm from `centre_lps` along w and u."""
    directions = np.stack([sign * frame[name] for name, sign in CROP_AXES[view]], axis=1)  # columns
    affine = np.eye(4)
    affine[:3, :3] = directions * np.asarray(spacing_mm, float)
    centre = np.asarray(centre_lps, float) + offset_mm[0] * frame["w"] + offset_mm[1] * frame["u"]
    affine[:3, 3] = centre - affine[:3, :3] @ ((np.asarray(shape, float) - 1) / 2)
    return affine


def sample_crops(volume: np.ndarray | torch.Tensor, crop_to_volume: np.ndarray, shape) -> torch.Tensor:
    """Trilinear samples (K, *shape) of `volume` (D, H, W) at the voxels of K crops, each given by its crop voxel
    -> volume voxel affine (K, 4, 4); zero outside the volume."""
    vol = torch.as_tensor(volume, dtype=torch.float32)
    affines = torch.as_tensor(np.asarray(crop_to_volume, float).reshape(-1, 4, 4), dtype=torch.float32)
    axes = [torch.arange(n, dtype=torch.float32) for n in shape]
    index = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, 3)  # (P, 3)
    points = index @ affines[:, :3, :3].transpose(1, 2) + affines[:, None, :3, 3]  # (K, P, 3) volume indices
    size = torch.tensor([max(n - 1, 1) for n in vol.shape], dtype=torch.float32)
    grid = (2 * points / size - 1).flip(-1)  # grid_sample wants (x, y, z) = (column, row, slice), in [-1, 1]
    grid = grid.reshape(1, len(affines) * int(np.prod(shape)), 1, 1, 3)
    out = F.grid_sample(vol[None, None], grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    return out.reshape(len(affines), *shape)


def corners_of(boxes: torch.Tensor) -> torch.Tensor:
    """The 8 corners (..., 8, 3) of corner boxes (..., 6)."""
    upper = torch.tensor(list(np.ndindex(2, 2, 2)), dtype=torch.bool, device=boxes.device)  # (8, 3)
    return torch.where(upper, boxes[..., None, 3:], boxes[..., None, :3])


def boxes_through(boxes: torch.Tensor, affines: torch.Tensor) -> torch.Tensor:
    """Corner boxes (K, ..., 6) mapped by per-crop affines (K, 4, 4): the enclosing box of each box's 8 mapped
    corners (differentiable, for losses taken where the evaluation is)."""
    corners = corners_of(boxes)  # (K, ..., 8, 3)
    lead = corners.shape[1:-2]
    a = affines.reshape(affines.shape[0], *([1] * len(lead)), 4, 4).to(corners.dtype)
    mapped = corners @ a[..., :3, :3].transpose(-1, -2) + a[..., None, :3, 3]
    return torch.cat([mapped.min(dim=-2).values, mapped.max(dim=-2).values], dim=-1)
