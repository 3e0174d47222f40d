"""A 3D ResNet18 of its own that adds to the ordinal grade scores of the classes it serves (docs/model.md, "A trunk
of its own for grades"): the detection features hold little of a degenerated disc's or a stenosis's grade."""

from __future__ import annotations

import torch
from torch import nn

from spinedet.model.backbone import ResNet18_3d


class GradeTrunk(nn.Module):
    """`backbone` on the crop, mean- and max-pooled, and `score`: one ordinal score per class in `classes` (indices
    into the judge's classes)."""

    def __init__(self, base_width: int, classes: list[int], stem_stride, stage_strides, norm: str):
        super().__init__()
        self.backbone = ResNet18_3d(base_width, stem_stride, stage_strides, norm)
        self.register_buffer("classes", torch.tensor(classes, dtype=torch.long), persistent=False)
        self.score = nn.Linear(2 * self.backbone.out_channels, len(classes))

    def add_scores(self, crops: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """`scores` (BK, C) with this trunk's scores of `crops` (BK, 1, D, H, W) added to its classes' columns."""
        features = self.backbone(crops).flatten(2)
        own = self.score(torch.cat([features.mean(-1), features.amax(-1)], dim=1))
        return scores.index_add(1, self.classes, own.to(scores.dtype))


def legacy_trunk_keys(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`weights` with a run's single grade trunk as saved before several trunks (`judge.grade_trunk.*`,
    `judge.grade_trunk_score.*`) renamed to the first of `judge.grade_trunks`."""
    renames = (("judge.grade_trunk.", "judge.grade_trunks.0.backbone."),
               ("judge.grade_trunk_score.", "judge.grade_trunks.0.score."))
    renamed = {}
    for key, tensor in weights.items():
        for old, new in renames:
            if key.startswith(old):
                key = new + key[len(old):]
        renamed[key] = tensor
    return renamed
