"""Which predicted box hits which truth box: 3D IoU >= a threshold, or the predicted centre inside the truth."""

from __future__ import annotations

import numpy as np


def iou_3d(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise IoU (N, M) of corner boxes [x0, y0, z0, x1, y1, z1] (N, 6) and (M, 6)."""
    a = np.asarray(boxes_a, float).reshape(-1, 6)
    b = np.asarray(boxes_b, float).reshape(-1, 6)
    lo = np.maximum(a[:, None, :3], b[None, :, :3])
    hi = np.minimum(a[:, None, 3:], b[None, :, 3:])
    inter = np.clip(hi - lo, 0, None).prod(axis=2)
    vol_a = (a[:, 3:] - a[:, :3]).prod(axis=1)
    vol_b = (b[:, 3:] - b[:, :3]).prod(axis=1)
    union = vol_a[:, None] + vol_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def centre_inside(boxes_pred: np.ndarray, boxes_truth: np.ndarray) -> np.ndarray:
    """(N, M): whether the centre of predicted box n lies inside truth box m (edges included)."""
    p = np.asarray(boxes_pred, float).reshape(-1, 6)
    t = np.asarray(boxes_truth, float).reshape(-1, 6)
    c = (p[:, :3] + p[:, 3:]) / 2
    return np.all((c[:, None, :] >= t[None, :, :3]) & (c[:, None, :] <= t[None, :, 3:]), axis=2)


def hit_quality(boxes_pred: np.ndarray, boxes_truth: np.ndarray, iou_threshold: float, center_hit: bool) -> np.ndarray:
    """(N, M) match quality: IoU where the pair is a hit, -1 where it is not (a centre hit keeps its IoU, >= 0)."""
    iou = iou_3d(boxes_pred, boxes_truth)
    hit = centre_inside(boxes_pred, boxes_truth) if center_hit else iou >= iou_threshold
    return np.where(hit, iou, -1.0)


def froc_labels(quality: np.ndarray) -> np.ndarray:
    """For each prediction, the truth it hits best (index), or -1: one lesion per prediction, as in a label map."""
    if quality.shape[1] == 0:
        return np.full(quality.shape[0], -1)
    best = quality.argmax(axis=1)
    return np.where(quality[np.arange(len(best)), best] >= 0, best, -1)


def greedy_matches(quality: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """VOC/COCO matching: by descending score, each prediction takes the best still-free truth it hits.

    Returns, per prediction, the matched truth index or -1 (a false positive, duplicates included).
    Ties in score keep the input order (a stable sort), so the result is deterministic.
    """
    matched = np.full(len(scores), -1)
    free = np.ones(quality.shape[1], bool)
    for n in np.argsort(-np.asarray(scores), kind="stable"):
        q = np.where(free, quality[n], -1.0)
        if q.size and q.max() >= 0:
            m = int(q.argmax())
            matched[n] = m
            free[m] = False
    return matched
