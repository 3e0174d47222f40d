"""Set losses on every decoder layer: sigmoid focal classification, L1 and 3D GIoU on matched boxes."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from spinedet.model.box_ops import cxcyczdhw_to_corners, pairwise_giou
from spinedet.model.matcher import hungarian_match


def focal_loss(logits: torch.Tensor, onehot: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    p = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, onehot, reduction="none")
    p_t = p * onehot + (1 - p) * (1 - onehot)
    loss = ce * (1 - p_t) ** gamma
    return (alpha * onehot + (1 - alpha) * (1 - onehot)) * loss


def shared_box_classes(target: dict, num_classes: int) -> torch.Tensor:
    """(T, K) multi-hot: for each target, the classes of every target with the same box.

    A degenerated disc's box is its disc's box: with one class per target, the query matched to the disc would
    be taught "not degenerated" and the one matched to the finding "not a disc" on identical inputs. With the
    union, both queries learn both labels (sigmoid classes allow it) and NMS later keeps one box per class.
    """
    boxes, labels = target["boxes"].float(), target["labels"]
    same = (torch.cdist(boxes, boxes, p=float("inf")) < 1e-4).float()  # (T, T), boxes normalised to 0..1
    return (same @ F.one_hot(labels, num_classes).float()).clamp(max=1.0)


def layer_loss(out: dict, targets: list[dict], target_classes: list[torch.Tensor], weights: dict,
               num_boxes: float) -> dict:
    """Class, L1 and GIoU losses of one layer; `target_classes` holds each image's shared_box_classes."""
    logits, boxes = out["logits"].float(), out["boxes"].float()
    matches = hungarian_match(logits, boxes, targets, weights["class"], weights["l1"], weights["giou"])
    onehot = torch.zeros_like(logits)
    src, tgt = [], []
    for b, (q, t) in enumerate(matches):
        onehot[b, q] = target_classes[b][t]
        src.append(boxes[b, q])
        tgt.append(targets[b]["boxes"][t])
    src, tgt = torch.cat(src), torch.cat(tgt)
    loss_class = focal_loss(logits, onehot).sum() / num_boxes
    if len(src):
        loss_l1 = F.l1_loss(src, tgt, reduction="sum") / num_boxes
        giou = torch.diag(pairwise_giou(cxcyczdhw_to_corners(src), cxcyczdhw_to_corners(tgt)))
        loss_giou = (1 - giou).sum() / num_boxes
    else:
        loss_l1 = loss_giou = boxes.sum() * 0
    return {"class": loss_class, "l1": loss_l1, "giou": loss_giou}


def denoising_loss(dn: dict, valid: torch.Tensor, targets: list[dict], target_classes: list[torch.Tensor],
                   weights: dict, num_boxes: float) -> torch.Tensor:
    """Losses of one layer's denoising queries against the targets they were made from (no matching needed)."""
    logits, boxes = dn["logits"].float(), dn["boxes"].float()
    onehot = torch.zeros_like(logits)
    truth = torch.zeros_like(boxes)
    for b, t in enumerate(targets):
        k = len(t["labels"])
        onehot[b, :k] = target_classes[b]
        truth[b, :k] = t["boxes"]
    loss_class = focal_loss(logits[valid], onehot[valid]).sum() / num_boxes
    src, tgt = boxes[valid], truth[valid]
    loss_l1 = F.l1_loss(src, tgt, reduction="sum") / num_boxes
    giou = torch.diag(pairwise_giou(cxcyczdhw_to_corners(src), cxcyczdhw_to_corners(tgt)))
    return weights["class"] * loss_class + weights["l1"] * loss_l1 + weights["giou"] * (1 - giou).sum() / num_boxes


def set_loss(outputs: dict, targets: list[dict], weights: dict) -> tuple[torch.Tensor, dict]:
    """Weighted total over the last and every auxiliary decoder layer (and the encoder's proposals and the
    denoising queries, if any), and the last layer's parts (floats)."""
    num_boxes = max(1.0, float(sum(len(t["labels"]) for t in targets)))
    target_classes = [shared_box_classes(t, outputs["logits"].shape[-1]) for t in targets]  # once for every layer
    total = 0.0
    parts = {}
    for n, out in enumerate([outputs] + list(outputs.get("aux", [])) + ([outputs["enc"]] if "enc" in outputs else [])):
        losses = layer_loss(out, targets, target_classes, weights, num_boxes)
        total = total + sum(weights[k] * v for k, v in losses.items())
        if n == 0:
            parts = {k: float(v.detach()) for k, v in losses.items()}
    for dn in outputs.get("dn", []):
        total = total + denoising_loss(dn, outputs["dn_valid"], targets, target_classes, weights, num_boxes)
    return total, parts
