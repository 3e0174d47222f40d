"""Class-wise 3D non-maximum suppression of detections on their voxel-corner boxes."""

from __future__ import annotations

import numpy as np


def classwise_nms(detections: list[dict], iou_threshold: float) -> list[dict]:
    """Keep, within each class, the best-scoring of any boxes overlapping by 3D IoU > `iou_threshold`.

    Each detection is a dict with "class", "score" and "box_voxel" [i0, j0, k0, i1, j1, k1]; the survivors
    are returned sorted by descending score.
    """
    from monai.data.box_utils import non_max_suppression  # here: importing MONAI takes seconds, the CLI stays quick

    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"NMS IoU threshold must be in [0, 1], got {iou_threshold}")
    kept = []
    for name in sorted({d["class"] for d in detections}):
        group = [d for d in detections if d["class"] == name]
        boxes = np.array([d["box_voxel"] for d in group], dtype=np.float64).reshape(-1, 6)
        scores = np.array([d["score"] for d in group], dtype=np.float64)
        keep = non_max_suppression(boxes, scores, nms_thresh=iou_threshold)
        kept += [group[int(i)] for i in np.asarray(keep).reshape(-1)]
    return sorted(kept, key=lambda d: -d["score"])


def suppress_same_height(detections: list[dict], min_gap_mm: float) -> list[dict]:
    """Drop any detection whose box centre is within `min_gap_mm` in world z (cranio-caudal) of a better one's.

    For discs: two discs cannot share a height whatever their left-right or front-back offset, and levels are
    counted along world z too.
    """
    kept: list[dict] = []
    for d in sorted(detections, key=lambda d: -d["score"]):
        z = box_centre(d["box_lps"])[2]
        if all(abs(z - box_centre(k["box_lps"])[2]) >= min_gap_mm for k in kept):
            kept.append(d)
    return kept


def box_centre(box) -> np.ndarray:
    """Centre (3,) of a corner box [a0, b0, c0, a1, b1, c1]."""
    b = np.asarray(box, float)
    return (b[:3] + b[3:]) / 2.0
