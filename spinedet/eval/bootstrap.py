"""95% confidence intervals by bootstrap over patients, vectorised over resamples."""

from __future__ import annotations

import numpy as np

from spinedet.eval.curves import froc_probs, sensitivity_at
from spinedet.eval.table import DetectionTable

CHUNK = 64  # resamples computed at once


def _weighted_ap(order_match: np.ndarray, weights: np.ndarray, n_truth: np.ndarray) -> np.ndarray:
    """AP of each weighted resample (rows of weights, detections in descending-score order)."""
    tp = np.cumsum(weights * order_match, axis=1)
    n = np.cumsum(weights, axis=1)
    precision = np.where(n > 0, tp / np.maximum(n, 1e-12), 0.0)
    recall = tp / np.maximum(n_truth, 1e-12)[:, None]
    envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    step = np.diff(np.concatenate([np.zeros((len(recall), 1)), recall], axis=1), axis=1)
    return (step * envelope).sum(axis=1)


def _weighted_cpm(fp_probs: np.ndarray, fp_w: np.ndarray, tp_probs: np.ndarray, tp_w: np.ndarray,
                  n_scans: float) -> float:
    """CPM of one resample: the fROC of curves.froc_curve with each probability counted by its weight."""
    thresholds = np.unique(np.concatenate([fp_probs, tp_probs]))[1:]
    fp_order, tp_order = np.argsort(fp_probs), np.argsort(tp_probs)
    fp_tail = np.concatenate([np.cumsum(fp_w[fp_order][::-1])[::-1], [0.0]])
    tp_tail = np.concatenate([np.cumsum(tp_w[tp_order][::-1])[::-1], [0.0]])
    fps = fp_tail[np.searchsorted(fp_probs[fp_order], thresholds, side="left")]
    tps = tp_tail[np.searchsorted(tp_probs[tp_order], thresholds, side="left")]
    fps_per_scan = np.append(fps, 0) / max(n_scans, 1.0)
    sensitivity = np.append(tps, 0) / max(tp_w.sum(), 1e-12)
    return float(sensitivity_at(fps_per_scan, sensitivity).mean())


def bootstrap_ci(table: DetectionTable, threshold: float, n_resamples: int = 1000, seed: int = 0,
                 with_curves: bool = True) -> dict[str, list[float]]:
    """2.5th and 97.5th percentiles of precision, recall, F1 (and AP, CPM) over patient resamples."""
    n_patients = len(table.patients)
    if n_resamples <= 0 or n_patients == 0:
        return {}
    rng = np.random.default_rng(seed)
    kept = table.det_score >= threshold
    tp_p = np.bincount(table.det_patient[kept & (table.det_match >= 0)], minlength=n_patients)
    det_p = np.bincount(table.det_patient[kept], minlength=n_patients)
    truth_p = np.bincount(table.truth_patient, minlength=n_patients)
    order = np.argsort(-table.det_score, kind="stable")
    order_match = (table.det_match[order] >= 0).astype(float)
    stats = {k: [] for k in ("precision", "recall", "f1", "ap", "cpm")}
    for start in range(0, n_resamples, CHUNK):
        size = min(CHUNK, n_resamples - start)
        counts = rng.multinomial(n_patients, np.full(n_patients, 1.0 / n_patients), size=size).astype(float)
        tp, det, truth = counts @ tp_p, counts @ det_p, counts @ truth_p
        precision = np.where(det > 0, tp / np.maximum(det, 1), 0.0)
        recall = np.where(truth > 0, tp / np.maximum(truth, 1), 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
        stats["precision"].append(precision)
        stats["recall"].append(recall)
        stats["f1"].append(f1)
        if with_curves:
            stats["ap"].append(_weighted_ap(order_match[None, :], counts[:, table.det_patient[order]], truth))
            fp_probs, tp_probs = froc_probs(table)
            fp_patient = table.det_patient[table.det_froc_truth < 0]
            scans = counts[:, table.scan_patient].sum(axis=1)
            stats["cpm"].append(np.array([
                _weighted_cpm(fp_probs, c[fp_patient], tp_probs, c[table.truth_patient], n) for c, n in zip(counts, scans)
            ]))
    return {k: [float(np.percentile(np.concatenate(v), 2.5)), float(np.percentile(np.concatenate(v), 97.5))]
            for k, v in stats.items() if v}
