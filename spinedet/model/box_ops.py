"""3D box conversions and generalised IoU on normalised (cz, cy, cx, d, h, w) and corner boxes."""

from __future__ import annotations

import numpy as np
import torch


def cxcyczdhw_to_corners(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 6) centre-size boxes to corners (a0, b0, c0, a1, b1, c1) along the array axes."""
    centre, size = boxes[..., :3], boxes[..., 3:]
    return torch.cat([centre - size / 2, centre + size / 2], dim=-1)


def corners_to_cxcyczdhw(boxes: torch.Tensor) -> torch.Tensor:
    lo, hi = boxes[..., :3], boxes[..., 3:]
    return torch.cat([(lo + hi) / 2, hi - lo], dim=-1)


def volume(corners: torch.Tensor) -> torch.Tensor:
    return (corners[..., 3:] - corners[..., :3]).clamp(min=0).prod(dim=-1)


def pairwise_giou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Generalised IoU (N, M) between corner boxes a (N, 6) and b (M, 6)."""
    lo = torch.maximum(a[:, None, :3], b[None, :, :3])
    hi = torch.minimum(a[:, None, 3:], b[None, :, 3:])
    inter = (hi - lo).clamp(min=0).prod(dim=-1)
    union = volume(a)[:, None] + volume(b)[None, :] - inter
    iou = inter / union.clamp(min=1e-9)
    enclosing = (torch.maximum(a[:, None, 3:], b[None, :, 3:]) - torch.minimum(a[:, None, :3], b[None, :, :3])).prod(-1)
    return iou - (enclosing - union) / enclosing.clamp(min=1e-9)


def elementwise_giou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Generalised IoU (...) of corner boxes a and b (..., 6), pair by pair."""
    inter = (torch.minimum(a[..., 3:], b[..., 3:]) - torch.maximum(a[..., :3], b[..., :3])).clamp(min=0).prod(-1)
    union = volume(a) + volume(b) - inter
    enclosing = (torch.maximum(a[..., 3:], b[..., 3:]) - torch.minimum(a[..., :3], b[..., :3])).prod(-1)
    return inter / union.clamp(min=1e-9) - (enclosing - union) / enclosing.clamp(min=1e-9)


def centre_size_to_voxel(boxes: torch.Tensor, shape) -> torch.Tensor:
    """Normalised centre-size boxes (..., 6) of an input of `shape` to voxel corners (torch twin of
    normalised_to_voxel)."""
    n = torch.as_tensor(shape, dtype=boxes.dtype, device=boxes.device)
    return torch.cat([(boxes[..., :3] - boxes[..., 3:] / 2) * n - 0.5, (boxes[..., :3] + boxes[..., 3:] / 2) * n - 0.5], -1)


def normalised_to_voxel(boxes: np.ndarray, shape) -> np.ndarray:
    """Normalised centre-size boxes (N, 6) of an input of `shape` to voxel corners: t in [0, 1] spans [-0.5, n-0.5]."""
    b = np.asarray(boxes, float).reshape(-1, 6)
    n = np.asarray(shape, float)
    lo = (b[:, :3] - b[:, 3:] / 2) * n - 0.5
    hi = (b[:, :3] + b[:, 3:] / 2) * n - 0.5
    return np.concatenate([lo, hi], axis=1)


def voxel_to_normalised(corners: np.ndarray, shape) -> np.ndarray:
    """Voxel corner boxes (N, 6) of an input of `shape` to normalised centre-size boxes."""
    c = np.asarray(corners, float).reshape(-1, 6)
    n = np.asarray(shape, float)
    lo, hi = (c[:, :3] + 0.5) / n, (c[:, 3:] + 0.5) / n
    return np.concatenate([(lo + hi) / 2, hi - lo], axis=1)


def inverse_sigmoid(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    x = x.clamp(eps, 1 - eps)
    return torch.log(x / (1 - x))
