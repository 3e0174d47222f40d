"""Hungarian matching of queries to targets on focal class, L1 and 3D GIoU costs."""

from __future__ import annotations

import torch
from scipy.optimize import linear_sum_assignment

from spinedet.model.box_ops import cxcyczdhw_to_corners, pairwise_giou


@torch.no_grad()
def hungarian_match(logits: torch.Tensor, boxes: torch.Tensor, targets: list[dict], w_class: float, w_l1: float,
                    w_giou: float, alpha: float = 0.25, gamma: float = 2.0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per batch item, (query indices, target indices) of the minimum-cost assignment."""
    out = []
    prob = logits.sigmoid().float()
    for b, target in enumerate(targets):
        labels, tboxes = target["labels"], target["boxes"]
        if len(labels) == 0:
            out.append((torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)))
            continue
        p = prob[b][:, labels]
        pos = alpha * (1 - p) ** gamma * -(p + 1e-8).log()
        neg = (1 - alpha) * p**gamma * -(1 - p + 1e-8).log()
        cost = (w_class * (pos - neg) + w_l1 * torch.cdist(boxes[b].float(), tboxes, p=1)
                - w_giou * pairwise_giou(cxcyczdhw_to_corners(boxes[b].float()), cxcyczdhw_to_corners(tboxes)))
        rows, cols = linear_sum_assignment(cost.cpu().numpy())
        out.append((torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)))
    return out
