"""A 3D ResNet18 (BasicBlock, 2-2-2-2) with a width multiplier and per-stage anisotropic strides."""

from __future__ import annotations

import math

import torch
from torch import nn


def group_norm(channels: int) -> nn.Module:
    return nn.GroupNorm(math.gcd(8, channels), channels)


NORMS = {"group": group_norm, "batch": nn.BatchNorm3d}


class BasicBlock3d(nn.Module):
    def __init__(self, cin: int, cout: int, stride, norm=group_norm):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, cout, 3, stride, 1, bias=False)
        self.norm1 = norm(cout)
        self.conv2 = nn.Conv3d(cout, cout, 3, 1, 1, bias=False)
        self.norm2 = norm(cout)
        self.shortcut = (
            nn.Sequential(nn.Conv3d(cin, cout, 1, stride, bias=False), norm(cout))
            if cin != cout or any(s != 1 for s in stride) else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.norm1(self.conv1(x)))
        return torch.relu(self.norm2(self.conv2(y)) + self.shortcut(x))


class ResNet18_3d(nn.Module):
    """Stem conv (stride `stem_stride`) then four stages of two BasicBlocks; widths base * (1, 2, 4, 8); group or
    batch normalisation (`norm`)."""

    def __init__(self, base_width: int = 64, stem_stride=(1, 2, 2), stage_strides=((1, 1, 1), (1, 2, 2), (2, 2, 2), (2, 2, 2)),
                 norm: str = "group"):
        super().__init__()
        make_norm = NORMS[norm]
        self.stem = nn.Sequential(
            nn.Conv3d(1, base_width, (3, 7, 7), tuple(stem_stride), (1, 3, 3), bias=False), make_norm(base_width), nn.ReLU()
        )
        widths = [base_width * m for m in (1, 2, 4, 8)]
        stages, cin = [], base_width
        for width, stride in zip(widths, stage_strides):
            stages.append(nn.Sequential(BasicBlock3d(cin, width, tuple(stride), make_norm),
                                        BasicBlock3d(width, width, (1, 1, 1), make_norm)))
            cin = width
        self.stages = nn.ModuleList(stages)
        self.widths = widths
        self.out_channels = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage_outputs(x)[-1]

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The feature map after each of the four stages."""
        x = self.stem(x)
        outputs = []
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs

    def freeze(self, n_stages: int) -> None:
        """Freeze the first `n_stages` of (stem, stage 1, ..., stage 4), for transfer learning."""
        for module in ([self.stem] + list(self.stages))[:n_stages]:
            for p in module.parameters():
                p.requires_grad_(False)
