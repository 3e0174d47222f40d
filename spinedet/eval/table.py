"""Flatten truth and prediction datasets into per-detection and per-truth arrays, matched once per scan."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from spinedet.eval.matching import froc_labels, greedy_matches, hit_quality


@dataclass
class DetectionTable:
    """Every prediction and truth of a set of scans, with their hits, as flat arrays (global truth indices)."""

    n_scans: int
    patients: np.ndarray  # (P,) patient ids
    det_score: np.ndarray  # (N,)
    det_patient: np.ndarray  # (N,) index into patients
    det_froc_truth: np.ndarray  # (N,) truth it hits best (fROC, LUNA16 style), -1 if none
    det_match: np.ndarray  # (N,) truth matched greedily (PR, VOC/COCO style), -1 if false positive
    det_level: np.ndarray  # (N,) predicted level or ""
    truth_patient: np.ndarray  # (T,)
    truth_level: np.ndarray  # (T,) level or ""
    scan_patient: np.ndarray  # (S,)

    @property
    def n_truths(self) -> int:
        return len(self.truth_patient)


def _entries(scan: dict, classes: set[str] | None) -> list[dict]:
    return [f for f in scan.get("findings", []) if classes is None or f["class"] in classes]


def build_table(truth: dict, predictions: dict, *, iou_threshold: float = 0.1, center_hit: bool = False,
                classes: set[str] | None = None, scan_ids: set[str] | None = None, warn=True) -> DetectionTable:
    """Match predictions to truth scan by scan; truth scans missing from `predictions` have no detections."""
    predicted = {s["id"]: s for s in predictions.get("scans", [])}
    scans = [s for s in truth["scans"] if scan_ids is None or s["id"] in scan_ids]
    missing = [s["id"] for s in scans if s["id"] not in predicted]
    if missing and warn:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        print(f"warning: {len(missing)} truth scan(s) have no predictions and count as empty: {shown}", file=sys.stderr)
    patients = sorted({s["patient"] for s in scans})
    patient_index = {p: i for i, p in enumerate(patients)}
    det_cols: dict[str, list] = {"score": [], "patient": [], "froc": [], "match": [], "level": []}
    truth_patient, truth_level, scan_patient = [], [], []
    for scan in scans:
        pid = patient_index[scan["patient"]]
        scan_patient.append(pid)
        truths = _entries(scan, classes)
        preds = _entries(predicted.get(scan["id"], {}), classes)
        offset = len(truth_patient)
        truth_patient += [pid] * len(truths)
        truth_level += [t.get("level") or "" for t in truths]
        if not preds:
            continue
        scores = np.array([p["score"] for p in preds], float)
        quality = hit_quality(np.array([p["box_lps"] for p in preds], float).reshape(-1, 6),
                              np.array([t["box_lps"] for t in truths], float).reshape(-1, 6), iou_threshold, center_hit)
        froc = froc_labels(quality)
        match = greedy_matches(quality, scores)
        det_cols["score"] += list(scores)
        det_cols["patient"] += [pid] * len(preds)
        det_cols["froc"] += list(np.where(froc >= 0, froc + offset, -1))
        det_cols["match"] += list(np.where(match >= 0, match + offset, -1))
        det_cols["level"] += [p.get("level") or "" for p in preds]
    return DetectionTable(
        n_scans=len(scans),
        patients=np.array(patients, dtype=object),
        det_score=np.array(det_cols["score"], float),
        det_patient=np.array(det_cols["patient"], int),
        det_froc_truth=np.array(det_cols["froc"], int),
        det_match=np.array(det_cols["match"], int),
        det_level=np.array(det_cols["level"], dtype=object),
        truth_patient=np.array(truth_patient, int),
        truth_level=np.array(truth_level, dtype=object),
        scan_patient=np.array(scan_patient, int),
    )
