"""Validation during training: predict the validation scans, post-process as detect does, evaluate."""

from __future__ import annotations

from pathlib import Path

from spinedet.data.dataset import DISC_CLASS, image_path
from spinedet.eval import best_f1_threshold, evaluate
from spinedet.infer.nms import classwise_nms
from spinedet.infer.predictor import detect_scan
from spinedet.io.load import load_scan

NMS_IOU = 0.3


def predictions_for(model, meta: dict, dataset_path: Path, entries: list[dict]) -> dict:
    """A predictions dataset over `entries`: every finding above the score floor after class-wise NMS."""
    floor = float(meta["config"]["train"].get("score_floor", 0.05))
    scans = []
    for entry in entries:
        scan = load_scan(image_path(dataset_path, entry), view=entry["view"], region=entry["region"])
        kept = classwise_nms([d for d in detect_scan(model, meta, scan, floor) if d["class"] != DISC_CLASS], NMS_IOU)
        scans.append({"id": entry["id"], "findings": [{k: d[k] for k in ("class", "score", "box_lps")} for d in kept]})
    return {"scans": scans}


def validate(model, meta: dict, dataset_path: Path, entries: list[dict]) -> dict:
    """CPM, AP and F1 at the validation F1-maximising threshold (class-agnostic disease findings)."""
    truth = {"classes": [c for c in meta["classes"] if c != DISC_CLASS], "scans": entries}
    predictions = predictions_for(model, meta, dataset_path, entries)
    threshold = best_f1_threshold(truth, predictions)
    m = evaluate(truth, predictions, score_threshold=threshold)
    return {k: float(m[k]) for k in ("cpm", "ap", "f1", "precision", "recall", "threshold")}
