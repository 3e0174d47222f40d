"""Disc candidates from the level finder's maps: heatmap peaks with their centre, box and level probabilities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class DiscCandidates:
    """N heatmap peaks: score (N,), centre (N, 3) and corner box (N, 6) in input voxels, level probabilities (N, L)."""

    scores: np.ndarray
    centres: np.ndarray
    boxes: np.ndarray
    level_probs: np.ndarray


def disc_peaks(out: dict, out_stride, floor: float, max_peaks: int) -> DiscCandidates:
    """Local maxima (3x3x3) of the first batch item's heatmap scoring at least `floor`, best first."""
    heat = out["heatmap"][0, 0].float().sigmoid()
    peak = heat == F.max_pool3d(heat[None, None], 3, stride=1, padding=1)[0, 0]
    index = torch.nonzero(peak & (heat >= floor))
    scores = heat[tuple(index.T)]
    order = torch.argsort(scores, descending=True)[:max_peaks]
    index, scores = index[order], scores[order]
    i, j, k = index.T
    offsets = out["offset"][0][:, i, j, k].float().T
    sizes = out["size"][0][:, i, j, k].float().T.exp()
    centres = (index.float() + offsets) * torch.as_tensor(out_stride, dtype=torch.float32)
    probs = out["level"][0][:, i, j, k].float().T.softmax(-1)
    boxes = torch.cat([centres - sizes / 2, centres + sizes / 2], -1)
    return DiscCandidates(scores.numpy(), centres.numpy().reshape(-1, 3), boxes.numpy().reshape(-1, 6),
                          probs.numpy().reshape(len(scores), out["level"].shape[1]))
