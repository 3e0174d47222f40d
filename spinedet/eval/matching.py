"""Which predicted box hits which truth box: 3D IoU >= a threshold, or the predicted centre inside the truth."""

from __future__ import annotations

import numpy as np


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of corner boxes [..., 6] broadcast against each other (0 where the union is empty)."""
    inter = np.clip(np.minimum(a[..., 3:], b[..., 3:]) - np.maximum(a[..., :3], b[..., :3]), 0, None).prod(axis=-1)
    union = (a[..., 3:] - a[..., :3]).prod(axis=-1) + (b[..., 3:] - b[..., :3]).prod(axis=-1) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _centre_in(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Whether the centre of each predicted box [..., 6] lies inside the truth box (edges included), broadcast."""
    c = (pred[..., :3] + pred[..., 3:]) / 2
    return np.all((c >= truth[..., :3]) & (c <= truth[..., 3:]), axis=-1)


def _quality(pred: np.ndarray, truth: np.ndarray, iou_threshold: float, center_hit: bool) -> np.ndarray:
    iou = _iou(pred, truth)
    hit = _centre_in(pred, truth) if center_hit else iou >= iou_threshold
    return np.where(hit, iou, -1.0)


def iou_3d(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise IoU (N, M) of corner boxes [x0, y0, z0, x1, y1, z1] (N, 6) and (M, 6)."""
    a, b = np.asarray(boxes_a, float).reshape(-1, 6), np.asarray(boxes_b, float).reshape(-1, 6)
    return _iou(a[:, None], b[None])


def hit_quality(boxes_pred: np.ndarray, boxes_truth: np.ndarray, iou_threshold: float, center_hit: bool) -> np.ndarray:
    """(N, M) match quality: IoU where the pair is a hit, -1 where it is not (a centre hit keeps its IoU, >= 0)."""
    p, t = np.asarray(boxes_pred, float).reshape(-1, 6), np.asarray(boxes_truth, float).reshape(-1, 6)
    return _quality(p[:, None], t[None], iou_threshold, center_hit)


def hit_pairs(det_box: np.ndarray, det_scan: np.ndarray, truth_box: np.ndarray, truth_scan: np.ndarray,
              iou_threshold: float, center_hit: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(detection, truth, quality) of every hitting pair within a scan; truths must be grouped by scan in order."""
    n_scans = int(max(det_scan.max(initial=-1), truth_scan.max(initial=-1))) + 1
    truth_count = np.bincount(truth_scan, minlength=n_scans)
    truth_start = np.cumsum(truth_count) - truth_count
    per_det = truth_count[det_scan]
    pair_det = np.repeat(np.arange(len(det_scan)), per_det)
    first = np.cumsum(per_det) - per_det
    pair_truth = np.repeat(truth_start[det_scan] - first, per_det) + np.arange(len(pair_det))
    quality = _quality(det_box[pair_det], truth_box[pair_truth], iou_threshold, center_hit)
    hit = quality >= 0
    return pair_det[hit], pair_truth[hit], quality[hit]


def froc_truths(pair_det, pair_truth, quality, n_det: int) -> np.ndarray:
    """For each detection, the truth it hits best (index), or -1: one lesion per detection, as in a label map."""
    best = np.full(n_det, -1)
    order = np.lexsort((pair_truth, -quality, pair_det))
    d, t = pair_det[order], pair_truth[order]
    first = np.ones(len(d), bool)
    first[1:] = d[1:] != d[:-1]
    best[d[first]] = t[first]
    return best


def greedy_matches(pair_det, pair_truth, quality, det_score) -> np.ndarray:
    """VOC/COCO matching: by descending score, each detection takes the best still-free truth it hits.

    Returns, per detection, the matched truth index or -1 (a false positive, duplicates included).
    Ties in score keep the input order (a stable sort), so the result is deterministic.
    """
    matched = np.full(len(det_score), -1)
    # detections by descending score (input order on ties), then best quality, then lowest truth index
    order = np.lexsort((pair_truth, -quality, pair_det, -np.asarray(det_score)[pair_det]))
    taken: set[int] = set()
    for d, t in zip(pair_det[order].tolist(), pair_truth[order].tolist()):
        if matched[d] < 0 and t not in taken:
            matched[d] = t
            taken.add(t)
    return matched
