"""The one prediction path: a trained run turns a Scan into findings and discs with their levels, and a set of runs
turns scans or a dataset's entries into a predictions dataset. `spinedet detect`, the study and validation during
training all come through here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from spinedet.data.dataset import image_path
from spinedet.data.preprocess import prepare
from spinedet.infer import findings as F
from spinedet.infer.level_predictor import padded_finder_shape, predict_levels
from spinedet.io import geometry
from spinedet.io.load import load_scan
from spinedet.io.scan import Scan
from spinedet.model.box_ops import normalised_to_voxel
from spinedet.model.build import model_kind
from spinedet.model.precision import prepare_model
from spinedet.model.run import load_run
from spinedet.progress import progress_bar

SCAN_INFO_KEYS = ("id", "patient", "center", "region", "view", "image", "split")


def model_boxes_to_scan(boxes_model_voxel: np.ndarray, model_to_scan: np.ndarray) -> np.ndarray:
    """Model voxel corner boxes (N, 6) to scan canonical voxel corner boxes (axis-aligned affine)."""
    return np.array([geometry.box_voxel_to_world(b, model_to_scan) for b in boxes_model_voxel]).reshape(-1, 6)


def scan_boxes_to_model(boxes_scan_voxel: np.ndarray, model_to_scan: np.ndarray) -> np.ndarray:
    return np.array([geometry.box_world_to_voxel(b, model_to_scan) for b in boxes_scan_voxel]).reshape(-1, 6)


@torch.no_grad()
def query_outputs(model: torch.nn.Module, meta: dict, scan: Scan) -> tuple[np.ndarray, np.ndarray]:
    """DETR head: class probabilities (queries, classes) and boxes in scan canonical voxels (queries, 6)."""
    pre = meta["preprocessing"][scan.view] if scan.view in meta["preprocessing"] else meta["preprocessing"][meta["view"]]
    inp = prepare(scan, pre["spacing_mm"], pre["shape"])
    was_training = model.training
    model.eval()
    out = model(torch.from_numpy(inp.array)[None, None])
    model.train(was_training)
    boxes_model = normalised_to_voxel(out["boxes"][0].numpy(), pre["shape"])
    return out["logits"][0].sigmoid().numpy(), model_boxes_to_scan(boxes_model, inp.model_to_scan)


def detr_detections(model: torch.nn.Module, meta: dict, scan: Scan, score_floor: float) -> list[dict]:
    """DETR head: every (query, class) pair scoring >= score_floor, best first (sigmoid classes: a query may hold
    a disc and a disease on one box)."""
    probs, boxes = query_outputs(model, meta, scan)
    queries, labels = np.nonzero(probs >= score_floor)
    detections = [{"class": meta["classes"][int(label)], "score": float(score), "box_voxel": box,
                   "box_lps": geometry.box_voxel_to_world(box, scan.affine)}
                  for score, label, box in zip(probs[queries, labels], labels, boxes[queries])]
    return sorted(detections, key=lambda d: -d["score"])


class Predictor:
    """A trained run, ready to predict scans."""

    def __init__(self, model: torch.nn.Module, meta: dict):
        self.model, self.meta = model, meta
        self.score_floor = float(meta["config"]["train"].get("score_floor", 0.05))
        self.kind = model_kind(meta["config"])

    @classmethod
    def from_run(cls, run_dir: str | Path) -> "Predictor":
        model, meta = load_run(run_dir)
        return cls(prepare_model(model, meta["config"], torch.device("cpu")), meta)

    def predict(self, scan: Scan, region: str | None = None) -> tuple[list[dict], list[dict]]:
        """(findings, discs) of one scan: `predict_batch` of one."""
        return self.predict_batch([scan], [region])[0]

    def predict_batch(self, scans: list[Scan], regions: list[str | None]) -> list[tuple[list[dict], list[dict]]]:
        """(findings, discs) of each scan, levels named as its region (default the scan's, else the run's) counts
        them: findings at every score above the run's floor, discs as the model keeps them, zero-size boxes
        dropped. The level design takes scans of one view and region as one batch (`predict_levels`); the DETR
        head takes them one by one."""
        regions = [region or scan.region or self.meta["region"] for scan, region in zip(scans, regions)]
        if self.kind == "levels":
            predicted = predict_levels(self.model, self.meta, scans, regions)
        else:
            predicted = [self._detr_predict(scan, region) for scan, region in zip(scans, regions)]
        return [self._kept(findings, discs) for findings, discs in predicted]

    def batch_key(self, scan: Scan, region: str | None) -> tuple:
        """Scans of equal keys may share a batch: of one view and region, and for the level design of one padded
        finder shape (`find_discs_batch` says why)."""
        region = region or scan.region or self.meta["region"]
        if self.kind != "levels":
            return scan.view, region
        return scan.view, region, padded_finder_shape(self.model, self.meta, scan, region)

    def _detr_predict(self, scan: Scan, region: str) -> tuple[list[dict], list[dict]]:
        """DETR: discs above the operating threshold name the levels by counting; class-wise NMS."""
        detections = F.above_threshold(detr_detections(self.model, self.meta, scan, self.score_floor), 0.0,
                                       float(self.meta.get("threshold", 0.5)))
        return F.postprocess([d for d in detections if F.has_extent(d)], region, F.NMS_IOU, F.DISC_GAP_MM[region])

    def _kept(self, findings: list[dict], discs: list[dict]) -> tuple[list[dict], list[dict]]:
        """Findings at or above the run's floor with an extent, discs with an extent."""
        findings = [f for f in findings if f["score"] >= self.score_floor and F.has_extent(f)]
        return findings, [d for d in discs if F.has_extent(d)]


def best_of_runs(predicted: list[tuple[list[dict], list[dict]]],
                 thresholds: list[float] | None = None) -> tuple[list[dict], list[dict]]:
    """One scan's (findings, discs) from several runs' (findings, discs), each run's findings from its threshold on
    (default: all): per (class, level) and per disc level the best-scoring one; findings best first, discs head to
    foot."""
    best: dict = {}
    discs: dict = {}
    for n, (found, named) in enumerate(predicted):
        for f in (f for f in found if thresholds is None or f["score"] >= thresholds[n]):
            key = (f["class"], f["level"]) if f["level"] is not None else (f["class"], id(f))
            if key not in best or f["score"] > best[key]["score"]:
                best[key] = f
        for d in named:
            key = d["level"] if d["level"] is not None else id(d)
            if key not in discs or d["score"] > discs[key]["score"]:
                discs[key] = d
    ordered = sorted(discs.values(), key=lambda d: -(d["box_lps"][2] + d["box_lps"][5]))
    return sorted(best.values(), key=lambda f: -f["score"]), ordered


def predict_scans(predictors: list[Predictor], scans: list[Scan], regions: list[str | None],
                  thresholds: list[float] | None = None) -> list[tuple[list[dict], list[dict]]]:
    """(findings, discs) of several runs on each of `scans` (of one view and region: one batch per run), each run's
    findings from its threshold on (default: all above its floor), the runs joined by `best_of_runs`."""
    per_run = [predictor.predict_batch(scans, regions) for predictor in predictors]
    return [best_of_runs([run[n] for run in per_run], thresholds) for n in range(len(scans))]


def predict_scan(predictors: list[Predictor], scan: Scan, region: str | None = None,
                 thresholds: list[float] | None = None) -> tuple[list[dict], list[dict]]:
    """(findings, discs) of several runs on one scan: `predict_scans` of one."""
    return predict_scans(predictors, [scan], [region], thresholds)[0]


def batch_key(predictors: list[Predictor], scan: Scan, region: str | None) -> tuple:
    """Scans of equal keys may share a batch through every run of `predictors`."""
    return tuple(predictor.batch_key(scan, region) for predictor in predictors)


def pooled_batches(items: Iterable, key: Callable, batch_size: int, max_waiting: int = 16) -> Iterator[list]:
    """`items` in batches of at most `batch_size` items of one `key(item)`, each yielded when full (items wait in
    a pool per key for partners); when more than `max_waiting` items wait (scans of many shapes), the oldest pool
    goes as it is, so that a long dataset never holds more than that many loaded scans; the rest at the end."""
    if batch_size < 1:
        raise ValueError(f"batch size {batch_size} is not a positive integer")
    pools: dict = {}
    for item in items:
        pool = pools.setdefault(key(item), [])
        pool.append(item)
        if len(pool) == batch_size:
            yield pools.pop(key(item))
        elif sum(map(len, pools.values())) > max_waiting:
            yield pools.pop(next(iter(pools)))
    yield from pools.values()


def predict_entries(predictors: list[Predictor], dataset_path: Path, entries: list[dict], data_classes,
                    desc: str | None = None, batch_size: int = 2) -> dict:
    """A predictions dataset over dataset entries (each scan named in its own region, records in the entries'
    order), every finding kept above the runs' floors so that fROC and PR curves can be drawn; scans go through the
    models up to `batch_size` at a time, a batch only of scans of one `batch_key`."""
    records: list[dict | None] = [None] * len(entries)
    loaded = ((n, entry, load_scan(image_path(dataset_path, entry), view=entry["view"], region=entry["region"]))
              for n, entry in enumerate(entries))
    bar = progress_bar(len(entries), desc or "", unit="scan", disable=desc is None, leave=False)
    try:
        for batch in pooled_batches(loaded, lambda item: batch_key(predictors, item[2], item[1]["region"]),
                                    batch_size):
            predicted = predict_scans(predictors, [scan for _, _, scan in batch], [e["region"] for _, e, _ in batch])
            for (n, entry, _), (findings, discs) in zip(batch, predicted):
                records[n] = F.scan_record({k: entry[k] for k in SCAN_INFO_KEYS if k in entry}, findings, discs)
            bar.update(len(batch))
    finally:
        bar.close()
    return F.predictions_dataset(records, data_classes)
