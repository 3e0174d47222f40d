"""fROC (LUNA16 / MONAI convention), precision-recall (VOC/COCO), AP, and F1 at a score threshold."""

from __future__ import annotations

import numpy as np

from spinedet.eval.table import DetectionTable

FP_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def froc_probs(table: DetectionTable) -> tuple[np.ndarray, np.ndarray]:
    """(fp_probs, tp_probs) as monai.metrics.froc.compute_fp_tp_probs makes them.

    A detection hitting no truth is a false positive; each truth's tp prob is the best score among the
    detections that hit it (0 if none), so a second detection of a found lesion is neither TP nor FP.
    """
    fp_probs = table.det_score[table.det_froc_truth < 0]
    tp_probs = np.zeros(table.n_truths)
    hit = table.det_froc_truth >= 0
    np.maximum.at(tp_probs, table.det_froc_truth[hit], table.det_score[hit])
    return fp_probs, tp_probs


def froc_curve(fp_probs: np.ndarray, tp_probs: np.ndarray, n_truths: int,
               n_scans: int) -> tuple[np.ndarray, np.ndarray]:
    """(false positives per scan, sensitivity), identical to monai.metrics.froc.compute_froc_curve_data."""
    thresholds = np.unique(np.concatenate([fp_probs, tp_probs]))[1:]
    fp_sorted, tp_sorted = np.sort(fp_probs), np.sort(tp_probs)
    fps = len(fp_sorted) - np.searchsorted(fp_sorted, thresholds, side="left")
    tps = len(tp_sorted) - np.searchsorted(tp_sorted, thresholds, side="left")
    fps_per_scan = np.append(fps, 0) / float(max(n_scans, 1))
    sensitivity = np.append(tps, 0) / float(n_truths) if n_truths else np.zeros(len(fps) + 1)
    return fps_per_scan, sensitivity


def sensitivity_at(fps_per_scan: np.ndarray, sensitivity: np.ndarray, rates=FP_RATES) -> np.ndarray:
    """Sensitivity interpolated at each FP rate, as monai.metrics.froc.compute_froc_score does (CPM = mean)."""
    return np.interp(rates, fps_per_scan[::-1], sensitivity[::-1])


def pr_curve(table: DetectionTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(recall, precision, score) at each distinct score, descending: the operating points a threshold can reach.

    Detections are matched greedily by descending score (table.det_match); tied detections enter together,
    so the curve and AP do not depend on the order of tied detections in the files.
    """
    order = np.argsort(-table.det_score, kind="stable")
    scores = table.det_score[order]
    tp = np.cumsum(table.det_match[order] >= 0)
    n = np.arange(1, len(order) + 1)
    last_of_tie = np.append(scores[1:] != scores[:-1], True) if len(scores) else np.zeros(0, bool)
    recall = tp / table.n_truths if table.n_truths else np.zeros(len(order))
    return recall[last_of_tie], (tp / n)[last_of_tie], scores[last_of_tie]


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the interpolated PR curve (all points, VOC 2010+): precision made monotone from the right."""
    if len(recall) == 0:
        return 0.0
    r = np.concatenate([[0.0], recall])
    p = np.concatenate([[0.0], precision])
    p = np.maximum.accumulate(p[::-1])[::-1]
    return float(np.sum((r[1:] - r[:-1]) * p[1:]))


def counts_at(table: DetectionTable, threshold: float) -> tuple[int, int, int]:
    """(true positives, detections, truths) with detections scoring >= threshold, greedy matching."""
    kept = table.det_score >= threshold
    return int((table.det_match[kept] >= 0).sum()), int(kept.sum()), table.n_truths


def prf(tp: int, n_det: int, n_truth: int) -> tuple[float, float, float]:
    """Precision, recall, F1 from counts (0 where undefined)."""
    precision = tp / n_det if n_det else 0.0
    recall = tp / n_truth if n_truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def best_f1_threshold(table: DetectionTable) -> float:
    """The score threshold maximising F1 (the highest such threshold on ties); 1.0 with no detections."""
    if len(table.det_score) == 0 or table.n_truths == 0:
        return 1.0
    recall, precision, scores = pr_curve(table)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return float(scores[int(np.argmax(f1))])
