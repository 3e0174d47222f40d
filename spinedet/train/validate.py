"""Validation during training: predict the validation scans through the one prediction path, evaluate
class-agnostically."""

from __future__ import annotations

from pathlib import Path

from spinedet.data.dataset import DISC_CLASS
from spinedet.eval import best_f1_threshold, evaluate
from spinedet.eval.discs import disc_metrics
from spinedet.infer.predictor import Predictor, predict_entries


def predictions_for(model, meta: dict, dataset_path: Path, entries: list[dict]) -> dict:
    """A predictions dataset over `entries`, every finding above the model's score floor."""
    return predict_entries([Predictor(model, meta)], dataset_path, entries,
                           [c for c in meta["classes"] if c != DISC_CLASS])


def validate(model, meta: dict, dataset_path: Path, entries: list[dict]) -> dict:
    """CPM, AP and F1 at the validation F1-maximising threshold (class-agnostic disease findings)."""
    truth = {"classes": [c for c in meta["classes"] if c != DISC_CLASS], "scans": entries}
    predictions = predictions_for(model, meta, dataset_path, entries)
    threshold = best_f1_threshold(truth, predictions)
    m = evaluate(truth, predictions, score_threshold=threshold)
    result = {k: float(m[k]) for k in ("cpm", "ap", "f1", "precision", "recall", "threshold")}
    extra = {"level_accuracy": m["level_accuracy"], **disc_metrics(truth, predictions)}
    result.update({k: float(v) for k, v in extra.items() if v is not None and k != "n_discs"})
    return result
