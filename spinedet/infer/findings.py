"""Findings records of one scan, and findings.json (dataset schema) and findings.csv writing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from spinedet.atomic import write_text
from spinedet.data.dataset import DISC_CLASS, DISEASE_CLASSES, new_dataset, write_dataset
from spinedet.infer.levels import assign_levels, name_discs
from spinedet.infer.nms import classwise_nms, suppress_same_height

NOTICE = "Research software, not a medical device."
# Default minimum cranio-caudal distance between two disc centres, well under the adjacent-disc spacing (lumbar and
# lower thoracic discs lie 25-40 mm apart, cervical 15-20 mm), so only duplicates of one disc are merged. Cervical
# 8 mm rather than 6: on the quick study's C4 axial test scans (models of 2026-11-29), 6 mm left duplicate discs
# that shifted the level names (level accuracy of matched findings 0.0 and 0.1 against 0.33 and 0.6 at 8 mm).
DISC_GAP_MM = {"lumbar": 12.0, "cervical": 8.0}
NMS_IOU = 0.3  # default class-wise 3D NMS IoU: boxes of one class overlapping more are one finding
CSV_COLUMNS = (
    ["scan_id", "class", "level", "score", "grade", "grade_probability"]
    + [f"{a}{e}_mm" for e in "01" for a in "xyz"]
    + [f"{a}{e}_voxel" for e in "01" for a in "ijk"]
    + ["overlay", "notice"]
)


BOX_DECIMALS = 4  # boxes are written to 0.1 micrometre (LPS) / 1e-4 voxel


def _rounded(box, digits: int = BOX_DECIMALS) -> list[float]:
    return [round(float(v), digits) for v in box]


def has_extent(det: dict) -> bool:
    """Whether both of a detection's boxes keep a positive extent on every axis as written."""
    return all(b[d] < b[d + 3] for b in (_rounded(det["box_lps"]), _rounded(det["box_voxel"])) for d in range(3))


def above_threshold(detections: list[dict], score_threshold: float, disc_threshold: float) -> list[dict]:
    """Detections scoring at least `score_threshold` (disease) or `disc_threshold` (discs)."""
    return [d for d in detections if d["score"] >= (disc_threshold if d["class"] == DISC_CLASS else score_threshold)]


def postprocess(
    detections: list[dict], region: str, iou_threshold: float, disc_gap_mm: float
) -> tuple[list[dict], list[dict]]:
    """Thresholded detections of one scan to (findings, discs): class-wise NMS, disc naming, finding levels.

    Discs are also thinned so that no two centres are closer than `disc_gap_mm` in world z.
    """
    kept = classwise_nms(detections, iou_threshold)
    discs = suppress_same_height([d for d in kept if d["class"] == DISC_CLASS], disc_gap_mm)
    discs = name_discs(discs, region)
    findings = assign_levels([d for d in kept if d["class"] != DISC_CLASS], discs)
    return findings, discs


def grade_record(det: dict) -> dict:
    """A finding's grade fields as stored in findings.json, where the model grades it."""
    if "grade" not in det:
        return {}
    return {"grade": det["grade"], "grade_probability": round(float(det["grade_probability"]), 5),
            "grade_probabilities": {g: round(float(p), 5) for g, p in det["grade_probabilities"].items()}}


def finding_record(det: dict) -> dict:
    """A finding as stored in findings.json."""
    return {
        "class": det["class"],
        "level": det["level"],
        "score": round(float(det["score"]), 5),
        "box_lps": _rounded(det["box_lps"]),
        "box_voxel": _rounded(det["box_voxel"]),
        **grade_record(det),
    }


def disc_record(det: dict) -> dict:
    """A disc as stored in findings.json."""
    return {k: v for k, v in finding_record(det).items() if k != "class"}


def scan_record(scan_info: dict, findings: list[dict], discs: list[dict]) -> dict:
    """A predictions-dataset scan entry: the scan's id/patient/center/region/view/image plus its outputs."""
    return {
        **scan_info,
        "findings": [finding_record(f) for f in findings],
        "discs": [disc_record(d) for d in discs],
    }


def predictions_dataset(records: list[dict], classes) -> dict:
    """A predictions dataset over `records` with the notice; `classes` ordered as DISEASE_CLASSES."""
    data = new_dataset([c for c in DISEASE_CLASSES if c in set(classes)] + sorted(set(classes) - set(DISEASE_CLASSES)))
    data["notice"] = NOTICE
    data["scans"] = records
    return data


def write_findings_json(path: Path, data: dict) -> None:
    """Validate and write findings.json atomically."""
    write_dataset(path, data)


def findings_csv_text(data: dict, overlays: dict[tuple[str, int], str]) -> str:
    """One CSV row per disease finding (grade and grade_probability empty where the model grades none);
    `overlays` maps (scan id, finding index) to its PNG's relative path."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for scan in data["scans"]:
        for n, f in enumerate(scan["findings"]):
            writer.writerow(
                [scan["id"], f["class"], f["level"] or "", f"{f['score']:.5f}", f.get("grade", ""),
                 f"{f['grade_probability']:.5f}" if "grade_probability" in f else ""]
                + f["box_lps"]
                + f["box_voxel"]
                + [overlays.get((scan["id"], n), ""), NOTICE]
            )
    return out.getvalue()


def write_findings_csv(path: Path, data: dict, overlays: dict[tuple[str, int], str]) -> None:
    """Write findings.csv atomically (UTF-8, comma separated, header row)."""
    write_text(path, findings_csv_text(data, overlays))
