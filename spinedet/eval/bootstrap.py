"""95% confidence intervals by bootstrap over patients, vectorised over resamples.

Each resample is a vector of patient multiplicities; every statistic is a weighted sum over precomputed
per-detection arrays, so a resample costs a few matrix products instead of a new evaluation. Each resample's
statistics equal those of evaluating the materialised resample (tests/test_eval_bootstrap.py).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from spinedet.eval.curves import FP_RATES, froc_probs
from spinedet.eval.table import DetectionTable

CHUNK = 64  # resamples computed at once


def _incidence(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """Transposed patient x column count matrix, so that (M @ counts.T).T sums weights per column."""
    return sparse.csr_matrix((np.ones(len(rows)), (cols, rows)), shape=(shape[1], shape[0]))


def _by_patient(m: sparse.csr_matrix, counts: np.ndarray) -> np.ndarray:
    return np.asarray(m @ counts.T).T


class _AP:
    """AP of weighted resamples, one PR point per distinct score; precision is needed only where recall rises.

    Columns are the distinct scores holding a true positive (descending); a false positive counts from the
    column of its own score or the next lower one (those below every true positive never matter).
    """

    def __init__(self, table: DetectionTable):
        is_tp = table.det_match >= 0
        tp_scores = np.unique(table.det_score[is_tp])  # ascending
        n_patients, columns = len(table.patients), len(tp_scores)
        tp_column = columns - 1 - np.searchsorted(tp_scores, table.det_score[is_tp])
        fp_column = columns - np.searchsorted(tp_scores, table.det_score[~is_tp], side="right")
        kept = fp_column < columns
        self.tp_bins = _incidence(table.det_patient[is_tp], tp_column, (n_patients, columns))
        self.fp_bins = _incidence(table.det_patient[~is_tp][kept], fp_column[kept], (n_patients, columns))

    def __call__(self, counts: np.ndarray, truth_w: np.ndarray) -> np.ndarray:
        w_tp = _by_patient(self.tp_bins, counts)
        n = np.cumsum(_by_patient(self.fp_bins, counts) + w_tp, axis=1)
        tp = np.cumsum(w_tp, axis=1)
        precision = np.where(n > 0, tp / np.maximum(n, 1e-12), 0.0)
        envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
        return np.where(truth_w > 0, (w_tp * envelope).sum(axis=1) / np.maximum(truth_w, 1e-12), 0.0)


class _FROC:
    """Sensitivity at FP_RATES of weighted resamples, as monai.metrics.froc computes it on the resample.

    MONAI's curve has a point at every distinct probability but the lowest present one; sensitivity is constant
    between consecutive truth probabilities, so only the ends of each constant run are kept (interpolation
    on a constant run is exact), and each resample's lowest present probability is handled on its own.
    """

    def __init__(self, table: DetectionTable):
        fp_probs, tp_probs = froc_probs(table)
        self.fp_probs, self.tp_probs = fp_probs, tp_probs
        self.fp_patient, self.tp_patient = table.det_patient[table.det_froc_truth < 0], table.truth_patient
        n_patients = len(table.patients)
        every = np.unique(np.concatenate([fp_probs, tp_probs]))
        if len(every) == 0:
            self.thresholds = every
            return
        tp_values = np.unique(tp_probs)
        above = np.searchsorted(every, tp_values, side="right")
        self.thresholds = np.unique(np.concatenate([every[:1], tp_values, every[above[above < len(every)]]]))
        columns = len(self.thresholds)
        fp_bin = np.searchsorted(self.thresholds, fp_probs, side="right") - 1
        tp_bin = np.searchsorted(self.thresholds, tp_probs, side="right") - 1
        self.fp_bins = _incidence(self.fp_patient, fp_bin, (n_patients, columns))
        self.tp_bins = _incidence(self.tp_patient, tp_bin, (n_patients, columns))
        self.patient_min = np.full(n_patients, np.inf)
        np.minimum.at(self.patient_min, self.fp_patient, fp_probs)
        np.minimum.at(self.patient_min, self.tp_patient, tp_probs)

    def __call__(self, counts: np.ndarray, n_scans: np.ndarray, truth_w: np.ndarray) -> np.ndarray:
        if len(self.thresholds) == 0:
            return np.zeros((len(counts), len(FP_RATES)))
        fps = np.cumsum(_by_patient(self.fp_bins, counts)[:, ::-1], axis=1)[:, ::-1]  # weight >= each threshold
        tps = np.cumsum(_by_patient(self.tp_bins, counts)[:, ::-1], axis=1)[:, ::-1]
        lowest = np.where(counts > 0, self.patient_min, np.inf).min(axis=1)
        first_fp, first_tp = fps[:, 0].copy(), tps[:, 0].copy()  # weight above the lowest present probability
        for value in np.unique(lowest[np.isfinite(lowest)]):
            rows = lowest == value
            first_fp[rows] -= counts[rows] @ np.bincount(self.fp_patient[self.fp_probs == value],
                                                         minlength=counts.shape[1])
            first_tp[rows] -= counts[rows] @ np.bincount(self.tp_patient[self.tp_probs == value],
                                                         minlength=counts.shape[1])
        skipped = self.thresholds[None, :] <= lowest[:, None]
        fps = np.where(skipped, first_fp[:, None], fps)
        tps = np.where(skipped, first_tp[:, None], tps)
        # monai: points by ascending threshold, then (0, 0); np.interp on the reversed (ascending FP) arrays
        x = np.concatenate([np.zeros((len(counts), 1)), fps[:, ::-1]], axis=1) / np.maximum(n_scans, 1e-12)[:, None]
        y = np.concatenate([np.zeros((len(counts), 1)), tps[:, ::-1]], axis=1)
        y = np.where(truth_w[:, None] > 0, y / np.maximum(truth_w, 1e-12)[:, None], 0.0)
        return np.stack([_interp_rows(rate, x, y) for rate in FP_RATES], axis=1)


def _interp_rows(rate: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """np.interp(rate, x[r], y[r]) for every row r (x ascending, x[:, 0] == 0 <= rate), as numpy computes it."""
    rows = np.arange(len(x))
    j = (x <= rate).sum(axis=1) - 1
    last = j == x.shape[1] - 1
    k = np.minimum(j, x.shape[1] - 2)
    x0, x1, y0, y1 = x[rows, k], x[rows, k + 1], y[rows, k], y[rows, k + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = (y1 - y0) / (x1 - x0) * (rate - x0) + y0
    return np.where(last, y[:, -1], np.where(x0 == rate, y0, inside))


def resample_stats(table: DetectionTable, threshold: float, counts: np.ndarray, with_curves: bool = True,
                   prepared: tuple | None = None) -> dict[str, np.ndarray]:
    """Precision, recall, F1 (and AP, CPM, sensitivity at each FP rate) of each resample (rows of patient counts).

    Also the resample's number of truths and of detections kept at the threshold (weighted counts).
    """
    n_patients = len(table.patients)
    kept = table.det_score >= threshold
    tp_p = np.bincount(table.det_patient[kept & (table.det_match >= 0)], minlength=n_patients)
    det_p = np.bincount(table.det_patient[kept], minlength=n_patients)
    truth_p = np.bincount(table.truth_patient, minlength=n_patients)
    tp, det, truth_w = counts @ tp_p, counts @ det_p, counts @ truth_p
    precision = np.where(det > 0, tp / np.maximum(det, 1), 0.0)
    recall = np.where(truth_w > 0, tp / np.maximum(truth_w, 1), 0.0)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    out = {"precision": precision, "recall": recall, "f1": f1, "n_truths": truth_w, "n_kept": det}
    if with_curves:
        ap, froc = prepared or (_AP(table), _FROC(table))
        sens = froc(counts, counts @ np.bincount(table.scan_patient, minlength=n_patients), truth_w)
        out.update(ap=ap(counts, truth_w), cpm=sens.mean(axis=1), sensitivity_at_fp=sens)
    return out


def _defined(stats: dict[str, np.ndarray], key: str) -> np.ndarray:
    """Resamples where the metric is defined: precision needs kept detections, F1 either, the others truths."""
    if key == "precision":
        return stats["n_kept"] > 0
    if key == "f1":
        return stats["n_kept"] + stats["n_truths"] > 0
    return stats["n_truths"] > 0


def bootstrap_ci(table: DetectionTable, threshold: float, n_resamples: int = 1000, seed: int = 0,
                 with_curves: bool = True) -> dict[str, list[float] | None]:
    """2.5th and 97.5th percentiles of precision, recall, F1 (and AP, CPM) over patient resamples.

    A resample where a metric is undefined (no truths drawn for recall, AP, CPM; no kept detection for
    precision) is left out of that metric's interval instead of counting as 0; None if it is never defined.
    """
    n_patients = len(table.patients)
    if n_resamples <= 0 or n_patients == 0:
        return {}
    rng = np.random.default_rng(seed)
    prepared = (_AP(table), _FROC(table)) if with_curves else None
    chunks: dict[str, list[np.ndarray]] = {}
    for start in range(0, n_resamples, CHUNK):
        size = min(CHUNK, n_resamples - start)
        counts = rng.multinomial(n_patients, np.full(n_patients, 1.0 / n_patients), size=size).astype(float)
        for k, v in resample_stats(table, threshold, counts, with_curves, prepared).items():
            chunks.setdefault(k, []).append(v)
    stats = {k: np.concatenate(v) for k, v in chunks.items()}
    out: dict[str, list[float] | None] = {}
    for key in ("precision", "recall", "f1", "ap", "cpm"):
        if key in stats:
            values = stats[key][_defined(stats, key)]
            out[key] = [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))] if len(values) else None
    return out
