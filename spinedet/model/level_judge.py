"""The level judge: a 3D ResNet18 per disc crop with a light feature-pyramid decoder that paints, per class, where
in the crop the finding is (a mask trained on the findings' boxes: dense supervision, as Retina U-Net's auxiliary
segmentation, which teaches a small lesion far faster than one label per crop). Each crop's pooled features and
mask maxima, with its level, become one token; a transformer over the tokens of all crops of a scan gives every level
the context of the others. Per (level, class): a presence logit from that token, and a box in the crop located by
the class mask (soft-argmax) plus a regressed offset and size; with `grade_counts`, also the finding's grade as
cumulative ordinal logits (model/ordinal.py) from the same features as the box, detached: the grade loss trains the
grade head alone, so grading cannot cost detection (trained jointly, it cost 0.01-0.07 F1; docs/model.md). With
`grade_trunks` (base width, class indices per trunk), the grades of each trunk's classes also read a 3D ResNet18 of
their own on the crop (model/grade_trunk.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from spinedet.data.levels import ALL_LEVELS
from spinedet.model.backbone import ResNet18_3d
from spinedet.model.grade_trunk import GradeTrunk
from spinedet.model.ordinal import CumulativeThresholds
from spinedet.model.transformer import EncoderLayer, mlp


def _voxel_centres(grid, device) -> torch.Tensor:
    """(d*h*w, 3) centres of a feature grid's voxels in crop-normalised coordinates [0, 1]."""
    axes = [(torch.arange(n, device=device, dtype=torch.float32) + 0.5) / n for n in grid]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, 3)


class LevelJudge(nn.Module):
    """Outputs per crop and class: `logits` (B, K, C) and `boxes` (B, K, C, 6), normalised (centre, size) of
    the crop extent, centres in [0, 1] across the crop; with `grade_counts` (grades per class, 0 for a class
    without), `grade_logits` (B, K, C, T): P(grade > k | present) = sigmoid(grade_logits[..., k])."""

    def __init__(self, num_classes: int, base_width: int, stem_stride, stage_strides, d_model: int, heads: int,
                 layers: int, ffn: int, dropout: float = 0.0, norm: str = "batch", decoder_width: int = 32,
                 grade_counts: list[int] | None = None, grade_trunks: tuple[int, list[list[int]]] | None = None):
        super().__init__()
        self.backbone = ResNet18_3d(base_width, stem_stride, stage_strides, norm)
        channels = self.backbone.out_channels
        widths = self.backbone.widths
        self.lateral = nn.ModuleList(nn.Conv3d(w, decoder_width, 1) for w in widths[:3])
        self.top = nn.Conv3d(channels, decoder_width, 1)
        self.fuse = nn.Sequential(nn.Conv3d(decoder_width, decoder_width, 3, padding=1), nn.ReLU())
        self.masks = nn.Conv3d(decoder_width, num_classes, 1)
        nn.init.constant_(self.masks.bias, -4.0)
        self.token = nn.Linear(2 * channels + num_classes, d_model)
        self.level_embedding = nn.Embedding(len(ALL_LEVELS), d_model)
        nn.init.zeros_(self.level_embedding.weight)
        self.context = nn.ModuleList(EncoderLayer(d_model, heads, ffn, dropout) for _ in range(layers))
        self.presence = nn.Linear(d_model, num_classes)  # from the crop's own token: learns as fast as a plain CNN
        nn.init.constant_(self.presence.bias, -2.0)  # prior probability ~0.12
        self.context_presence = nn.Linear(d_model, num_classes)  # what the other levels add, starting at nothing
        nn.init.zeros_(self.context_presence.weight)
        nn.init.zeros_(self.context_presence.bias)
        self.box_head = mlp(decoder_width + d_model, d_model, 6, 2)
        self.num_classes = num_classes
        self.grade_counts = grade_counts
        if grade_counts is not None:
            self.grade_score = mlp(decoder_width + d_model, d_model, 1, 2)
            self.grade_thresholds = CumulativeThresholds(grade_counts)
            width, groups = grade_trunks or (0, [])
            self.grade_trunks = nn.ModuleList(GradeTrunk(width, classes, stem_stride, stage_strides, norm)
                                              for classes in groups)

    def grade_parameters(self) -> list[nn.Parameter]:
        """The grade head's parameters (none without one), its trunks' included."""
        if self.grade_counts is None:
            return []
        return [*self.grade_score.parameters(), *self.grade_thresholds.parameters(), *self.grade_trunks.parameters()]

    def _grade_scores(self, crops: torch.Tensor, per_class: torch.Tensor) -> torch.Tensor:
        """(BK, C) ordinal scores: from the detached per-class features, plus each grade trunk's for its classes."""
        scores = self.grade_score(per_class.detach())[..., 0]
        for trunk in self.grade_trunks:
            scores = trunk.add_scores(crops, scores)
        return scores

    def forward(self, crops: torch.Tensor, levels: torch.Tensor, valid: torch.Tensor) -> dict:
        """`crops` (B, K, D, H, W), `levels` (B, K) indices into ALL_LEVELS, `valid` (B, K) False for padding."""
        batch, k = crops.shape[:2]
        flat_crops = crops.reshape(batch * k, 1, *crops.shape[2:])
        stages = self.backbone.stage_outputs(flat_crops)
        features = stages[-1]  # (BK, Cf, d, h, w)
        flat = features.flatten(2)
        fine = self.top(features)
        for stage, lateral in zip(reversed(stages[:3]), reversed(self.lateral)):
            fine = lateral(stage) + F.interpolate(fine, size=stage.shape[2:], mode="trilinear", align_corners=False)
        fine = self.fuse(fine)  # (BK, d, at stage 1's grid)
        masks = self.masks(fine)  # (BK, C, ...)
        mask_max = masks.flatten(2).amax(-1)
        tokens = self.token(torch.cat([flat.mean(-1), flat.amax(-1), mask_max], dim=1)).reshape(batch, k, -1)
        pos = self.level_embedding(levels)
        x = tokens + pos
        for layer in self.context:
            x = layer(x, pos, key_padding_mask=~valid)
        logits = self.presence(tokens) + self.context_presence(x)  # (B, K, C)
        attention = masks.flatten(2).softmax(-1)  # (BK, C, T): where each class is, by its mask
        located = attention @ _voxel_centres(masks.shape[2:], crops.device)  # (BK, C, 3)
        pooled = attention @ fine.flatten(2).transpose(1, 2)  # (BK, C, d)
        context = x.reshape(batch * k, 1, -1).expand(-1, self.num_classes, -1)
        per_class = torch.cat([pooled, context], dim=-1)  # (BK, C, d + d_model)
        raw = self.box_head(per_class)
        centres = (located + 0.25 * torch.tanh(raw[..., :3])).clamp(0.0, 1.0)
        boxes = torch.cat([centres, raw[..., 3:].sigmoid()], dim=-1)
        out = {"logits": logits, "boxes": boxes.reshape(batch, k, self.num_classes, 6),
               "masks": masks.reshape(batch, k, self.num_classes, *masks.shape[2:])}
        if self.grade_counts is not None:
            grade_logits = self.grade_thresholds(self._grade_scores(flat_crops, per_class))  # (BK, C, T)
            out["grade_logits"] = grade_logits.reshape(batch, k, self.num_classes, -1)
        return out
