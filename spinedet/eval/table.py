"""Flatten truth and prediction datasets into per-detection and per-truth arrays, matched once for all scans."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from itertools import chain

import numpy as np

from spinedet.errors import SpinedetError
from spinedet.eval.matching import froc_truths, greedy_matches, hit_pairs


@dataclass
class DetectionTable:
    """Every prediction and truth of a set of scans, with their hits, as flat arrays (global truth indices)."""

    n_scans: int
    patients: np.ndarray  # (P,) patient ids
    det_score: np.ndarray  # (N,)
    det_patient: np.ndarray  # (N,) index into patients
    det_froc_truth: np.ndarray  # (N,) truth it hits best (fROC, LUNA16 style), -1 if none
    det_match: np.ndarray  # (N,) truth matched greedily (PR, VOC/COCO style), -1 if false positive
    det_level: np.ndarray  # (N,) predicted level of a matched detection, else "" (only those are compared)
    truth_patient: np.ndarray  # (T,)
    truth_level: np.ndarray  # (T,) level or ""
    scan_patient: np.ndarray  # (S,)
    n_ignored: int  # detections left out at an unlabelled (class, level) of their scan, neither TP nor FP

    @property
    def n_truths(self) -> int:
        return len(self.truth_patient)


def _flat(scans: list[dict], classes) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """(boxes (K, 6), scan index (K,), entries) of the findings of `scans` in `classes` (all if None), in order."""
    flat = [f for s in scans for f in s.get("findings", ())]
    scan_index = np.repeat(np.arange(len(scans)), [len(s.get("findings", ())) for s in scans])
    if classes is not None:
        keep = np.array([f["class"] in classes for f in flat], bool)
        flat = [f for f, k in zip(flat, keep.tolist()) if k]
        scan_index = scan_index[keep]
    boxes = np.fromiter(chain.from_iterable(f["box_lps"] for f in flat), float, count=6 * len(flat)).reshape(-1, 6)
    # inverted boxes would give meaningless volumes; zero extent (a collapsed predicted box) only never overlaps
    bad = np.flatnonzero(~np.all(boxes[:, 3:] >= boxes[:, :3], axis=1))
    if len(bad):
        where = scans[scan_index[bad[0]]].get("id")
        raise SpinedetError(f"scan {where}: box_lps {flat[bad[0]]['box_lps']} has negative extent "
                            f"(need x0<=x1, y0<=y1, z0<=z1; {len(bad)} such box(es) in all)")
    return boxes, scan_index, flat


def _unlabelled_pairs(scans: list[dict]) -> dict[int, set[tuple[str, str]]]:
    """Scan index -> the scan's unlabelled (class, level) pairs, for the scans that list any."""
    return {n: {(u["class"], u["level"]) for u in s["unlabelled"]} for n, s in enumerate(scans) if s.get("unlabelled")}


def _labelled(boxes: np.ndarray, scan_index: np.ndarray, entries: list[dict],
              unlabelled: dict[int, set]) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """The entries of _flat whose (class, level) is not unlabelled in their scan (nnDetection's ignore regions)."""
    if not unlabelled:
        return boxes, scan_index, entries
    keep = np.array([(e["class"], e.get("level")) not in unlabelled.get(n, ())
                     for e, n in zip(entries, scan_index.tolist())], bool)
    return boxes[keep], scan_index[keep], [e for e, k in zip(entries, keep.tolist()) if k]


def _levels(entries: list[dict]) -> np.ndarray:
    return np.array([f.get("level") or "" for f in entries], dtype=object)


def build_table(truth: dict, predictions: dict, *, iou_threshold: float = 0.1, center_hit: bool = False,
                classes: set[str] | None = None, scan_ids: set[str] | None = None, warn=True) -> DetectionTable:
    """Match predictions to truth scan by scan; truth scans missing from `predictions` have no detections.

    Truths and predictions at a (class, level) pair the truth scan lists as unlabelled are left out of both.
    """
    predicted = {s["id"]: s for s in predictions.get("scans", [])}
    scans = [s for s in truth["scans"] if scan_ids is None or s["id"] in scan_ids]
    missing = [s["id"] for s in scans if s["id"] not in predicted]
    if missing and warn:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        print(f"warning: {len(missing)} truth scan(s) have no predictions and count as empty: {shown}", file=sys.stderr)
    patients = sorted({s["patient"] for s in scans})
    patient_index = {p: i for i, p in enumerate(patients)}
    scan_patient = np.array([patient_index[s["patient"]] for s in scans], int)
    unlabelled = _unlabelled_pairs(scans)
    truth_box, truth_scan, truths = _labelled(*_flat(scans, classes), unlabelled)
    every_det = _flat([predicted.get(s["id"], {}) for s in scans], classes)
    det_box, det_scan, dets = _labelled(*every_det, unlabelled)
    det_score = np.fromiter((d["score"] for d in dets), float, count=len(dets))
    pairs = hit_pairs(det_box, det_scan, truth_box, truth_scan, iou_threshold, center_hit)
    det_match = greedy_matches(*pairs, det_score)
    det_level = np.full(len(dets), "", dtype=object)
    matched = np.flatnonzero(det_match >= 0)
    det_level[matched] = [dets[n].get("level") or "" for n in matched.tolist()]
    return DetectionTable(
        n_scans=len(scans),
        patients=np.array(patients, dtype=object),
        det_score=det_score,
        det_patient=scan_patient[det_scan],
        det_froc_truth=froc_truths(*pairs, len(det_score)),
        det_match=det_match,
        det_level=det_level,
        truth_patient=scan_patient[truth_scan],
        truth_level=_levels(truths),
        scan_patient=scan_patient,
        n_ignored=len(every_det[2]) - len(dets),
    )
