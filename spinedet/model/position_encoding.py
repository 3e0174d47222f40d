"""3D sine position encoding of a feature grid, and of normalised reference points."""

from __future__ import annotations

import math

import torch


def sine_encoding(coords: torch.Tensor, channels_per_axis: int, temperature: float = 10000.0) -> torch.Tensor:
    """Encode (..., 3) coordinates in [0, 1] as (..., 3 * channels_per_axis) sines and cosines."""
    half = channels_per_axis // 2
    freqs = temperature ** (torch.arange(half, device=coords.device, dtype=coords.dtype) / half)
    angles = coords[..., None] * 2 * math.pi / freqs  # (..., 3, half)
    enc = torch.cat([angles.sin(), angles.cos()], dim=-1)  # (..., 3, 2*half)
    return enc.flatten(-2)


def grid_encoding(shape, d_model: int, device=None) -> torch.Tensor:
    """(D*H*W, d_model) encoding of voxel centres of a (D, H, W) grid, normalised to [0, 1]."""
    if d_model % 6:
        raise ValueError(f"d_model must be divisible by 6 for a 3D sine encoding, got {d_model}")
    axes = [(torch.arange(n, device=device, dtype=torch.float32) + 0.5) / n for n in shape]
    grid = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, 3)
    return sine_encoding(grid, d_model // 3)


def mm_grid_encoding(shape, step_mm, d_model: int, device=None, scale_mm: float = 600.0,
                     offset_mm: torch.Tensor | None = None) -> torch.Tensor:
    """(D*H*W, d_model) encoding of a grid's voxel centres by their distance in mm from the grid's centre, so that a
    token means the same place in windows and whole scans of other sizes (`scale_mm` spans the encoding's range).
    With `offset_mm` (B, 3), each batch item's grid is moved by its offset: (B, D*H*W, d_model)."""
    if d_model % 6:
        raise ValueError(f"d_model must be divisible by 6 for a 3D sine encoding, got {d_model}")
    axes = [((torch.arange(n, device=device, dtype=torch.float32) + 0.5) - n / 2) * float(s)
            for n, s in zip(shape, step_mm)]
    grid_mm = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, 3)
    if offset_mm is not None:
        grid_mm = grid_mm[None] + offset_mm[:, None, :].to(grid_mm)
    return sine_encoding(grid_mm / scale_mm + 0.5, d_model // 3)
