"""Validation during training: predict the validation scans with class-wise NMS, evaluate class-agnostically."""

from __future__ import annotations

from pathlib import Path

from spinedet.data.dataset import DISC_CLASS
from spinedet.eval import best_f1_threshold, evaluate
from spinedet.infer.findings import NMS_IOU
from spinedet.infer.predictor import Predictor


def predictions_for(model, meta: dict, dataset_path: Path, entries: list[dict]) -> dict:
    """A predictions dataset over `entries`: every finding and disc above the score floor after class-wise NMS."""
    ids = {e["id"] for e in entries}
    return Predictor(model, meta).predict_dataset(dataset_path, lambda e: e["id"] in ids, nms_iou=NMS_IOU)


def validate(model, meta: dict, dataset_path: Path, entries: list[dict]) -> dict:
    """CPM, AP and F1 at the validation F1-maximising threshold (class-agnostic disease findings)."""
    truth = {"classes": [c for c in meta["classes"] if c != DISC_CLASS], "scans": entries}
    predictions = predictions_for(model, meta, dataset_path, entries)
    threshold = best_f1_threshold(truth, predictions)
    m = evaluate(truth, predictions, score_threshold=threshold)
    return {k: float(m[k]) for k in ("cpm", "ap", "f1", "precision", "recall", "threshold")}
