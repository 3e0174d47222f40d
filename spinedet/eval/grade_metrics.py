"""Grade metrics of one class on matched levels: confusion matrix, quadratic weighted kappa with a bootstrap CI over
patients, and on the RSNA scale the challenge's sample-weighted log loss (definitions: docs/evaluation.md)."""

from __future__ import annotations

import numpy as np

from spinedet.data.grades import GRADES, RSNA_SCALE, STENOSIS_GRADES
from spinedet.eval.grade_pairs import GradePairs, grade_pairs, to_rsna, uses_rsna_scale

RSNA_WEIGHTS = np.array([1.0, 2.0, 4.0])  # normal/mild, moderate, severe
PROBABILITY_CLIP = 1e-15  # as scikit-learn's log_loss, which the challenge's metric called


def confusion(truth: np.ndarray, predicted: np.ndarray, size: int) -> np.ndarray:
    """(size, size) counts: rows truth grade, columns predicted grade."""
    return np.bincount(truth * size + predicted, minlength=size * size).reshape(size, size)


def quadratic_kappa_of(counts: np.ndarray) -> np.ndarray:
    """Quadratic weighted kappa of confusion matrices (..., S, S), NaN where undefined (no disagreement expected)."""
    size = counts.shape[-1]
    i, j = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    weights = (i - j) ** 2 / max(size - 1, 1) ** 2
    total = counts.sum(axis=(-2, -1))
    expected = counts.sum(-1)[..., :, None] * counts.sum(-2)[..., None, :] / np.maximum(total, 1e-12)[..., None, None]
    disagreement = (weights * expected).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(disagreement > 0, 1 - (weights * counts).sum(axis=(-2, -1)) / disagreement, np.nan)


def quadratic_kappa(truth: np.ndarray, predicted: np.ndarray, size: int) -> float | None:
    """Cohen's kappa with quadratic weights (i - j)^2 / (S - 1)^2 over grades 0..S-1; None where undefined."""
    value = float(quadratic_kappa_of(confusion(truth, predicted, size).astype(float)))
    return None if np.isnan(value) else value


def weighted_log_loss(truth: np.ndarray, probabilities: np.ndarray) -> float | None:
    """RSNA 2024's sample-weighted log loss: -sum w_i log p_i[y_i] / sum w_i, w 1/2/4 for normal/mild, moderate,
    severe; each row of `probabilities` (N, 3) normalised to sum 1 and clipped to [1e-15, 1 - 1e-15]."""
    if len(truth) == 0:
        return None
    p = probabilities / probabilities.sum(1, keepdims=True)
    p = np.clip(p[np.arange(len(truth)), truth], PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    w = RSNA_WEIGHTS[truth]
    return float(-(w * np.log(p)).sum() / w.sum())


def kappa_ci(pairs: GradePairs, n_resamples: int, seed: int) -> list[float] | None:
    """2.5th and 97.5th percentiles of the kappa over resamples of patients (undefined resamples left out)."""
    n_patients, size = len(pairs.patients), len(pairs.scale)
    if n_resamples <= 0 or n_patients == 0:
        return None
    per_patient = np.zeros((n_patients, size, size))
    np.add.at(per_patient, (pairs.patient, pairs.truth, pairs.predicted), 1.0)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_patients, np.full(n_patients, 1.0 / n_patients), size=n_resamples).astype(float)
    kappas = quadratic_kappa_of(np.einsum("rp,pij->rij", counts, per_patient))
    kappas = kappas[~np.isnan(kappas)]
    return [float(np.percentile(kappas, 2.5)), float(np.percentile(kappas, 97.5))] if len(kappas) else None


def class_grade_metrics(pairs: GradePairs, bootstrap: int, seed: int) -> dict:
    """Levels, scale, confusion matrix, kappa (and its CI) of one class, the kappa among found findings, and its RSNA
    log loss where on that scale."""
    size = len(pairs.scale)
    found = (pairs.truth > 0) & (pairs.predicted > 0)
    result = {
        "n_levels": int(len(pairs.truth)),
        "scale": list(pairs.scale),
        "confusion": confusion(pairs.truth, pairs.predicted, size).tolist(),
        "kappa": quadratic_kappa(pairs.truth, pairs.predicted, size),
        "n_found": int(found.sum()),
        "kappa_found": quadratic_kappa(pairs.truth[found] - 1, pairs.predicted[found] - 1, size - 1),
    }
    if bootstrap:
        result["kappa_ci"] = kappa_ci(pairs, bootstrap, seed)
    if GRADES[pairs.name] == STENOSIS_GRADES:
        rsna = pairs if pairs.scale == RSNA_SCALE else to_rsna(pairs)
        result["rsna_log_loss"] = weighted_log_loss(rsna.truth, rsna.probabilities)
    return result


def grade_metrics(truth: dict, predictions: dict, classes, threshold: float, scan_ids: set | None = None,
                  bootstrap: int = 0, seed: int = 0) -> dict:
    """{class: metrics} for the classes graded in both truth and predictions, on matched levels."""
    out = {}
    for name in classes:
        pairs = grade_pairs(truth, predictions, name, threshold, scan_ids)
        if pairs is not None:
            out[name] = class_grade_metrics(to_rsna(pairs) if uses_rsna_scale(truth, name) else pairs, bootstrap, seed)
    return out
