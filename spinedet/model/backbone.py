"""A 3D ResNet18 (BasicBlock, 2-2-2-2) with a width multiplier and per-stage anisotropic strides."""

from __future__ import annotations

import math

import torch
from torch import nn


def _norm(channels: int) -> nn.Module:
    return nn.GroupNorm(math.gcd(8, channels), channels)


class BasicBlock3d(nn.Module):
    def __init__(self, cin: int, cout: int, stride):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, cout, 3, stride, 1, bias=False)
        self.norm1 = _norm(cout)
        self.conv2 = nn.Conv3d(cout, cout, 3, 1, 1, bias=False)
        self.norm2 = _norm(cout)
        self.shortcut = (
            nn.Sequential(nn.Conv3d(cin, cout, 1, stride, bias=False), _norm(cout))
            if cin != cout or any(s != 1 for s in stride) else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.norm1(self.conv1(x)))
        return torch.relu(self.norm2(self.conv2(y)) + self.shortcut(x))


class ResNet18_3d(nn.Module):
    """Stem conv (stride `stem_stride`) then four stages of two BasicBlocks; widths base * (1, 2, 4, 8)."""

    def __init__(self, base_width: int = 64, stem_stride=(1, 2, 2), stage_strides=((1, 1, 1), (1, 2, 2), (2, 2, 2), (2, 2, 2))):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(1, base_width, (3, 7, 7), tuple(stem_stride), (1, 3, 3), bias=False), _norm(base_width), nn.ReLU()
        )
        widths = [base_width * m for m in (1, 2, 4, 8)]
        stages, cin = [], base_width
        for width, stride in zip(widths, stage_strides):
            stages.append(nn.Sequential(BasicBlock3d(cin, width, tuple(stride)), BasicBlock3d(width, width, (1, 1, 1))))
            cin = width
        self.stages = nn.ModuleList(stages)
        self.out_channels = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return x

    def freeze(self, n_stages: int) -> None:
        """Freeze the first `n_stages` of (stem, stage 1, ..., stage 4), for transfer learning."""
        for module in ([self.stem] + list(self.stages))[:n_stages]:
            for p in module.parameters():
                p.requires_grad_(False)
