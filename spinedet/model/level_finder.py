"""The level finder: a 3D ResNet18 over the whole scan at coarse spacing, a transformer encoder over its deepest
tokens (context along the whole spine), upsampled onto a finer stage's grid, and dense CenterNet-style heads: per
output voxel a disc-centre heatmap logit, the centre's offset within the voxel, the disc's size and its level."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from spinedet.data.levels import ALL_LEVELS
from spinedet.model.backbone import NORMS, ResNet18_3d
from spinedet.model.position_encoding import mm_grid_encoding
from spinedet.model.transformer import EncoderLayer

HEATMAP_PRIOR_LOGIT = -2.19  # sigmoid 0.1, CenterNet's initial heatmap bias


class LevelFinder(nn.Module):
    """Outputs (B, C, d, h, w) maps on the grid of stage `out_stage`: `heatmap` (1 logit), `offset` (3, in output
    voxels, from the voxel centre), `size` (3, log of the disc's extent in input voxels), `level` (logits over
    ALL_LEVELS)."""

    def __init__(self, base_width: int, stem_stride, stage_strides, d_model: int, heads: int, layers: int, ffn: int,
                 spacing_mm, dropout: float = 0.0, out_stage: int = 2, decoder_width: int = 32, norm: str = "batch",
                 position_jitter_mm: float = 0.0):
        super().__init__()
        self.position_jitter_mm = float(position_jitter_mm)
        self.backbone = ResNet18_3d(base_width, stem_stride, stage_strides, norm)
        strides = np.cumprod(np.array([stem_stride] + [list(s) for s in stage_strides]), axis=0)
        self.token_step_mm = tuple(float(v) for v in strides[-1] * np.asarray(spacing_mm, float))
        self.out_stride = tuple(int(v) for v in strides[out_stage])
        self.total_stride = tuple(int(v) for v in strides[-1])
        self.out_stage = out_stage
        self.neck = nn.Conv3d(self.backbone.out_channels, d_model, 1)
        self.encoder = nn.ModuleList(EncoderLayer(d_model, heads, ffn, dropout) for _ in range(layers))
        self.lateral = nn.Conv3d(self.backbone.widths[out_stage - 1], decoder_width, 1)
        self.top = nn.Conv3d(d_model, decoder_width, 1)
        self.fuse = nn.Sequential(nn.Conv3d(decoder_width, decoder_width, 3, padding=1), NORMS[norm](decoder_width),
                                  nn.ReLU())
        self.heads = nn.ModuleDict({"heatmap": nn.Conv3d(decoder_width, 1, 1), "offset": nn.Conv3d(decoder_width, 3, 1),
                                    "size": nn.Conv3d(decoder_width, 3, 1),
                                    "level": nn.Conv3d(decoder_width, len(ALL_LEVELS), 1)})
        nn.init.constant_(self.heads["heatmap"].bias, HEATMAP_PRIOR_LOGIT)
        self.d_model = d_model

    def forward(self, x: torch.Tensor) -> dict:
        stages = self.backbone.stage_outputs(x)
        deep = self.neck(stages[-1])
        batch, _, *grid = deep.shape
        tokens = deep.flatten(2).transpose(1, 2)
        pos = mm_grid_encoding(grid, self.token_step_mm, self.d_model, x.device, offset_mm=self._jitter(batch, x.device))
        pos = pos.to(tokens.dtype).expand(batch, -1, -1)
        for layer in self.encoder:
            tokens = layer(tokens, pos)
        deep = tokens.transpose(1, 2).reshape(batch, -1, *grid)
        fine = self.lateral(stages[self.out_stage - 1])
        fused = self.fuse(fine + F.interpolate(self.top(deep), size=fine.shape[2:], mode="trilinear",
                                               align_corners=False))
        return {name: head(fused) for name, head in self.heads.items()}

    def _jitter(self, batch: int, device) -> torch.Tensor | None:
        """In training, a random shift (mm) of each window's position grid: where a token sits in the window then
        says nothing about its level, which must come from the anatomy (a cut field of view moves the grid)."""
        if not (self.training and self.position_jitter_mm > 0):
            return None
        return (torch.rand(batch, 3, device=device) * 2 - 1) * self.position_jitter_mm
