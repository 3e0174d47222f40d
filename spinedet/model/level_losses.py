"""Losses of the level design: the judge's presence (BCE), boxes (L1 and 3D GIoU in a world-aligned frame) and,
with a grade head, grades (cumulative-logit ordinal BCE, model/ordinal.py), and the finder's CenterNet heads (focal
heatmap loss, L1 offsets and sizes, level cross-entropy)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from spinedet.data.crops import boxes_through
from spinedet.model.box_ops import centre_size_to_voxel, elementwise_giou
from spinedet.model.ordinal import ordinal_loss, threshold_mask


def box_masks(crop_boxes: torch.Tensor, presence: torch.Tensor, grid, crop_shape) -> torch.Tensor:
    """(B, K, C, d, h, w) 1.0 at mask voxels whose centre lies in a present finding's crop-voxel box; mask voxel o
    spans crop voxels [o * s, (o + 1) * s) for s = crop shape / grid."""
    step = torch.as_tensor(crop_shape, dtype=torch.float32, device=crop_boxes.device) / torch.as_tensor(grid, dtype=torch.float32, device=crop_boxes.device)
    axes = [(torch.arange(n, device=crop_boxes.device, dtype=torch.float32) + 0.5) * step[a] - 0.5
            for a, n in enumerate(grid)]
    lo, hi = crop_boxes[..., :3], crop_boxes[..., 3:]
    inside = [((axes[a] >= lo[..., a, None]) & (axes[a] <= hi[..., a, None])).float() for a in range(3)]
    masks = inside[0][..., :, None, None] * inside[1][..., None, :, None] * inside[2][..., None, None, :]
    return masks * presence[..., None, None, None]


def grade_loss(grade_logits: torch.Tensor, grades: torch.Tensor, graded: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """Ordinal loss of the (crop, class) pairs `graded` (B, K, C) holds, whose `grades` (B, K, C) are indices on
    their class's scale; zero (with a gradient path) where no pair is graded."""
    if not graded.any():
        return grade_logits.sum() * 0
    mask = threshold_mask(counts, grade_logits.shape[-1], grade_logits.device).expand(*graded.shape, -1)
    return ordinal_loss(grade_logits[graded], grades[graded], mask[graded])


def judge_loss(out: dict, target: dict, crop_shape, weights: dict, grade_counts: list[int] | None = None
               ) -> tuple[torch.Tensor, dict]:
    """`target`: presence, labelled (B, K, C), grades (B, K, C, -1 where ungraded), boxes (B, K, C, 6) in each
    crop's loss frame, frames (B, K, 4, 4) crop voxel -> loss frame, crop_boxes (B, K, C, 6) in crop voxels; padded
    crops have labelled 0. The per-class masks learn the findings' boxes voxel by voxel (dense supervision, as Retina
    U-Net's auxiliary segmentation). With `grade_counts` (grades per class), the grade head learns the grades of
    present, labelled, graded findings (a grade given presence)."""
    logits = out["logits"].float()
    presence, labelled = target["presence"], target["labelled"]
    bce = F.binary_cross_entropy_with_logits(logits, presence, reduction="none")
    loss_class = (bce * labelled).sum() / labelled.sum().clamp(min=1.0)
    b, k, c, _ = out["boxes"].shape
    voxel = centre_size_to_voxel(out["boxes"].float(), crop_shape)
    predicted = boxes_through(voxel.reshape(b * k, c, 6), target["frames"].reshape(b * k, 4, 4)).reshape(b, k, c, 6)
    positive = (presence * labelled) > 0
    if positive.any():
        p, t = predicted[positive], target["boxes"][positive]
        loss_l1 = (p - t).abs().sum(-1).mean()
        loss_giou = (1 - elementwise_giou(p, t)).mean()
    else:
        loss_l1 = loss_giou = predicted.sum() * 0
    masks = out["masks"].float()  # (B, K, C, d, h, w)
    mask_target = box_masks(target["crop_boxes"], presence, masks.shape[3:], crop_shape)
    mask_bce = F.binary_cross_entropy_with_logits(masks, mask_target, reduction="none").mean(dim=(3, 4, 5))
    probs = masks.sigmoid()
    dice = 1 - 2 * (probs * mask_target).sum(dim=(3, 4, 5)) / (probs + mask_target).sum(dim=(3, 4, 5)).clamp(min=1e-6)
    loss_mask = ((mask_bce * labelled).sum() / labelled.sum().clamp(min=1.0)
                 + (dice[positive].mean() if positive.any() else masks.sum() * 0))
    parts = {"class": loss_class, "l1": loss_l1, "giou": loss_giou, "mask": loss_mask}
    if grade_counts is not None:
        graded = positive & (target["grades"] >= 0)
        parts["grade"] = grade_loss(out["grade_logits"].float(), target["grades"], graded, grade_counts)
    total = sum(weights.get(name, 1.0) * value for name, value in parts.items())
    return total, {f"judge_{name}": float(value.detach()) for name, value in parts.items()}


def heatmap_focal_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss, summed and divided by the number of peaks (target == 1)."""
    p = logits.sigmoid().clamp(1e-4, 1 - 1e-4)
    positive = target >= 1.0 - 1e-6
    pos = -((1 - p) ** alpha * p.log())[positive].sum()
    neg = -((1 - target) ** beta * p**alpha * (1 - p).log())[~positive].sum()
    return (pos + neg) / positive.sum().clamp(min=1)


def finder_loss(out: dict, targets: list, weights: dict) -> tuple[torch.Tensor, dict]:
    """Heatmap focal loss, L1 on offsets and log sizes at each disc's peak voxel, level cross-entropy weighted
    by the Gaussian around each peak; `targets` holds one FinderTargets per batch item."""
    device = out["heatmap"].device
    heat = torch.stack([torch.as_tensor(t.heatmap, dtype=torch.float32) for t in targets]).to(device)
    loss_heat = heatmap_focal_loss(out["heatmap"][:, 0].float(), heat)
    offset_err, size_err, n_discs = 0.0, 0.0, 0
    for b, t in enumerate(targets):
        if not len(t.peaks):
            continue
        i, j, k = torch.as_tensor(t.peaks.T, device=device)
        offset_err = offset_err + (out["offset"][b, :, i, j, k].float().T
                                   - torch.as_tensor(t.offsets, dtype=torch.float32, device=device)).abs().sum()
        size_err = size_err + (out["size"][b, :, i, j, k].float().T
                               - torch.as_tensor(t.log_sizes, dtype=torch.float32, device=device)).abs().sum()
        n_discs += len(t.peaks)
    level_map = torch.stack([torch.as_tensor(t.level_map) for t in targets]).to(device)
    level_weight = torch.stack([torch.as_tensor(t.level_weight, dtype=torch.float32) for t in targets]).to(device)
    ce = F.cross_entropy(out["level"].float(), level_map.clamp(min=0), reduction="none")
    loss_level = (ce * level_weight).sum() / level_weight.sum().clamp(min=1e-6)
    n = max(n_discs, 1)
    parts = {"heatmap": loss_heat, "offset": offset_err / n, "size": size_err / n, "level": loss_level}
    total = sum(weights.get(name, 1.0) * value for name, value in parts.items())
    return total, {f"finder_{name}": float(value.detach()) if torch.is_tensor(value) else float(value)
                   for name, value in parts.items()}
