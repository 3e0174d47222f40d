"""Ordinal grades by cumulative logits (CORAL: Cao, Mirjalili, Raschka, Pattern Recognit Lett 2020;140:325): per
class one score s and ordered thresholds b_0 > b_1 > ...; P(grade > k) = sigmoid(s + b_k). Each threshold is a
binary task trained with binary cross-entropy; as the thresholds are ordered by construction (each the one before
less a softplus), P(grade > k) falls with k and every grade's probability is non-negative. The thresholds start
where every grade is equally likely at score 0: a short training need not first spread them apart (from one
point they fit 8 of 10 grades in the middle of three no sooner than about 1000 steps)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class CumulativeThresholds(nn.Module):
    """Per class c, `counts[c] - 1` ordered thresholds (none for a class with fewer than 2 grades): scores (..., C)
    -> cumulative logits (..., C, T), T the most thresholds of any class; a class's unused thresholds are left over."""

    def __init__(self, counts: list[int]):
        super().__init__()
        self.counts = list(counts)
        width = max(max(self.counts) - 1, 1)
        uniform = [[math.log((n - 1 - k) / (k + 1)) for k in range(n - 1)] for n in self.counts]  # logit((n-1-k)/n)
        self.first = nn.Parameter(torch.tensor([b[0] if b else 0.0 for b in uniform]))
        self.steps = nn.Parameter(torch.tensor([[_softplus_inverse(b[k] - b[k + 1]) if k + 1 < len(b) else 0.0
                                                 for k in range(width - 1)] for b in uniform]).reshape(len(counts), -1))

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        drops = torch.cumsum(F.softplus(self.steps), dim=-1)
        thresholds = torch.cat([self.first[:, None], self.first[:, None] - drops], dim=-1)  # (C, T), decreasing
        return scores[..., None] + thresholds


def _softplus_inverse(y: float) -> float:
    return math.log(math.expm1(y))


def threshold_mask(counts: list[int], width: int, device=None) -> torch.Tensor:
    """(C, width) True where class c has threshold k (k < counts[c] - 1)."""
    return torch.arange(width, device=device)[None, :] < (torch.as_tensor(counts, device=device)[:, None] - 1)


def grade_probabilities(logits: torch.Tensor, count: int) -> torch.Tensor:
    """(..., count) probabilities of each grade from the first `count - 1` cumulative logits (..., T)."""
    above = torch.sigmoid(logits[..., : count - 1])  # P(grade > k), k = 0 .. count-2
    ones = torch.ones_like(above[..., :1])
    zeros = torch.zeros_like(above[..., :1])
    return torch.cat([ones, above], dim=-1) - torch.cat([above, zeros], dim=-1)


def ordinal_loss(logits: torch.Tensor, grades: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over examples of the summed binary cross-entropy of each threshold k: target 1 where grade > k.

    `logits` (N, T), `grades` (N,) grade indices, `mask` (N, T) the thresholds each example's class has."""
    targets = (grades[:, None] > torch.arange(logits.shape[-1], device=logits.device)[None, :]).float()
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return (bce * mask).sum(-1).mean()
