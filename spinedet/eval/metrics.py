"""One group's metrics: fROC sensitivities and CPM, AP, precision/recall/F1 at a threshold, level accuracy, CIs."""

from __future__ import annotations

import numpy as np

from spinedet.eval.bootstrap import bootstrap_ci
from spinedet.eval.curves import (FP_RATES, average_precision, best_f1_threshold, counts_at, froc_curve, froc_probs,
                                  pr_curve, prf, sensitivity_at)
from spinedet.eval.table import DetectionTable


def level_accuracy(table: DetectionTable, threshold: float) -> float | None:
    """Fraction of matched findings (score >= threshold) whose predicted level equals the truth's level."""
    kept = (table.det_score >= threshold) & (table.det_match >= 0)
    truth_levels = table.truth_level[table.det_match[kept]]
    labelled = truth_levels != ""
    if not labelled.any():
        return None
    return float(np.mean(table.det_level[kept][labelled] == truth_levels[labelled]))


def group_metrics(table: DetectionTable, threshold: float | None = None, bootstrap: int = 0, seed: int = 0) -> dict:
    """Every metric of one group; threshold None chooses the F1-maximising one on these data."""
    fps_per_scan, sensitivity = froc_curve(*froc_probs(table), table.n_truths, table.n_scans)
    sens = sensitivity_at(fps_per_scan, sensitivity)
    recall_curve, precision_curve, _ = pr_curve(table)
    if threshold is None:
        threshold = best_f1_threshold(table)
    precision, recall, f1 = prf(*counts_at(table, threshold))
    result = {
        "n_scans": table.n_scans,
        "n_patients": len(table.patients),
        "n_truths": table.n_truths,
        "n_detections": int(len(table.det_score)),
        "n_ignored_detections": table.n_ignored,
        "sensitivity_at_fp": {f"{r:g}": float(s) for r, s in zip(FP_RATES, sens)},
        "cpm": float(sens.mean()),
        "ap": average_precision(recall_curve, precision_curve),
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "level_accuracy": level_accuracy(table, threshold),
    }
    if bootstrap:
        ci = bootstrap_ci(table, threshold, bootstrap, seed)
        result.update({f"{k}_ci": v for k, v in ci.items()})
    return result


def curves_of(table: DetectionTable, threshold: float | None = None) -> dict:
    """The fROC and PR curve points of a group, for plotting, with the operating point at `threshold` if given."""
    fp_probs, tp_probs = froc_probs(table)
    fps_per_scan, sensitivity = froc_curve(fp_probs, tp_probs, table.n_truths, table.n_scans)
    recall, precision, scores = pr_curve(table)
    out = {"fps_per_scan": fps_per_scan, "sensitivity": sensitivity, "recall": recall, "precision": precision,
           "scores": scores, "ap": average_precision(recall, precision)}
    if threshold is not None:
        p, r, _ = prf(*counts_at(table, threshold))
        fp_rate = float((fp_probs >= threshold).sum()) / max(table.n_scans, 1)
        sens = float(((tp_probs >= threshold) & (tp_probs > 0)).sum()) / max(table.n_truths, 1)
        out["operating_point"] = {"pr": (r, p), "froc": (fp_rate, sens), "threshold": threshold}
    return out
