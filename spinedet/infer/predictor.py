"""Apply a trained detector to a Scan: every (query, class) above a floor, boxes in scan voxels and LPS mm (no NMS)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from spinedet.data.dataset import DISC_CLASS, image_path, load_dataset
from spinedet.data.preprocess import prepare
from spinedet.infer.nms import classwise_nms
from spinedet.io import geometry
from spinedet.io.load import load_scan
from spinedet.io.scan import Scan
from spinedet.model.box_ops import normalised_to_voxel
from spinedet.train.checkpoint import load_run


def model_boxes_to_scan(boxes_model_voxel: np.ndarray, model_to_scan: np.ndarray) -> np.ndarray:
    """Model voxel corner boxes (N, 6) to scan canonical voxel corner boxes (axis-aligned affine)."""
    return np.array([geometry.box_voxel_to_world(b, model_to_scan) for b in boxes_model_voxel]).reshape(-1, 6)


def scan_boxes_to_model(boxes_scan_voxel: np.ndarray, model_to_scan: np.ndarray) -> np.ndarray:
    return np.array([geometry.box_world_to_voxel(b, model_to_scan) for b in boxes_scan_voxel]).reshape(-1, 6)


@torch.no_grad()
def query_outputs(model: torch.nn.Module, meta: dict, scan: Scan) -> tuple[np.ndarray, np.ndarray]:
    """One forward pass: class probabilities (queries, classes) and boxes in scan canonical voxels (queries, 6)."""
    pre = meta["preprocessing"][scan.view] if scan.view in meta["preprocessing"] else meta["preprocessing"][meta["view"]]
    inp = prepare(scan, pre["spacing_mm"], pre["shape"])
    was_training = model.training
    model.eval()
    out = model(torch.from_numpy(inp.array)[None, None])
    model.train(was_training)
    boxes_model = normalised_to_voxel(out["boxes"][0].numpy(), pre["shape"])
    return out["logits"][0].sigmoid().numpy(), model_boxes_to_scan(boxes_model, inp.model_to_scan)


def detect_scan(model: torch.nn.Module, meta: dict, scan: Scan, score_floor: float) -> list[dict]:
    """Raw detections of one scan: every (query, class) pair scoring >= score_floor, best first."""
    probs, boxes = query_outputs(model, meta, scan)
    queries, labels = np.nonzero(probs >= score_floor)  # sigmoid classes: a query may hold a disc and a disease
    detections = []
    for score, label, box in zip(probs[queries, labels], labels, boxes[queries]):
        detections.append({
            "class": meta["classes"][int(label)],
            "score": float(score),
            "box_voxel": [float(v) for v in box],
            "box_lps": [float(v) for v in geometry.box_voxel_to_world(box, scan.affine)],
        })
    return sorted(detections, key=lambda d: -d["score"])


class Predictor:
    """A trained run, ready to predict scans."""

    def __init__(self, model: torch.nn.Module, meta: dict):
        self.model, self.meta = model, meta
        self.score_floor = float(meta["config"]["train"].get("score_floor", 0.05))

    @classmethod
    def from_run(cls, run_dir: str | Path) -> "Predictor":
        return cls(*load_run(run_dir))

    def predict(self, scan: Scan) -> list[dict]:
        """Detections (disease classes and disc; one per query and class) above the score floor, best first, no NMS."""
        return detect_scan(self.model, self.meta, scan, self.score_floor)

    def predict_dataset(self, dataset_path: str | Path, scan_filter: Callable[[dict], bool] | None = None,
                        nms_iou: float | None = None) -> dict:
        """A predictions dataset (dataset.json schema) over the entries `scan_filter` accepts (all by default):
        findings and discs with their scores above the floor; class-wise NMS at `nms_iou` if given, else none."""
        data = load_dataset(dataset_path)
        scans = []
        for entry in data["scans"]:
            if scan_filter is not None and not scan_filter(entry):
                continue
            scan = load_scan(image_path(dataset_path, entry), view=entry["view"], region=entry["region"])
            detections = self.predict(scan)
            if nms_iou is not None:
                detections = classwise_nms(detections, nms_iou)
            keys = ("score", "box_lps", "box_voxel")
            info = {k: entry[k] for k in ("id", "patient", "center", "region", "view", "image", "split") if k in entry}
            scans.append({**info,
                          "findings": [{"class": d["class"], **{k: d[k] for k in keys}} for d in detections
                                       if d["class"] != DISC_CLASS],
                          "discs": [{k: d[k] for k in keys} for d in detections if d["class"] == DISC_CLASS]})
        return {"format": data.get("format", "spinedet-dataset/1"), "classes": list(data["classes"]), "scans": scans}
