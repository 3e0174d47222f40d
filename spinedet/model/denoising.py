"""Query denoising (DN-DETR): noised ground-truth boxes as extra decoder queries, trained to reconstruct them."""

from __future__ import annotations

import torch


def denoising_queries(targets: list[dict], label_embedding: torch.nn.Embedding, box_noise: float,
                      label_flip: float = 0.2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(content (B, N, d), reference boxes (B, N, 6), valid (B, N)) for N = the most targets of any item.

    Centres move by up to `box_noise` / 2 of the box size, sizes scale by 1 +- `box_noise`, and a `label_flip`
    share of the labels fed in are replaced by random classes; the queries must still answer the true box and class.
    """
    n = max(len(t["labels"]) for t in targets)
    batch, device = len(targets), label_embedding.weight.device
    labels = torch.zeros(batch, n, dtype=torch.long, device=device)
    boxes = torch.full((batch, n, 6), 0.5, device=device)
    valid = torch.zeros(batch, n, dtype=torch.bool, device=device)
    for b, t in enumerate(targets):
        k = len(t["labels"])
        labels[b, :k], boxes[b, :k], valid[b, :k] = t["labels"], t["boxes"], True
    flip = torch.rand(labels.shape, device=device) < label_flip
    labels = torch.where(flip, torch.randint_like(labels, label_embedding.num_embeddings), labels)
    centre = boxes[..., :3] + (torch.rand_like(boxes[..., :3]) * 2 - 1) * boxes[..., 3:] * box_noise / 2
    size = boxes[..., 3:] * (1 + (torch.rand_like(boxes[..., 3:]) * 2 - 1) * box_noise)
    reference = torch.cat([centre, size], -1).clamp(1e-3, 1 - 1e-3)
    return label_embedding(labels), reference, valid


def attention_mask(n_denoising: int, n_queries: int, device=None) -> torch.Tensor:
    """Self-attention mask (True = blocked): the matching queries must not see the denoising ones (the answers)."""
    total = n_denoising + n_queries
    mask = torch.zeros(total, total, dtype=torch.bool, device=device)
    mask[n_denoising:, :n_denoising] = True
    return mask
