"""Postprocessing of raw detections into findings/discs, findings.json and findings.csv."""

import csv
import io

import numpy as np

from spinedet.data.dataset import validate
from spinedet.infer.findings import (
    CSV_COLUMNS, NOTICE, above_threshold, findings_csv_text, has_extent, postprocess, predictions_dataset, scan_record, write_findings_json,
)


def _det(cls, score, z_mm, y_mm=0.0):
    box = [-20.0, y_mm - 15, z_mm - 4, 20.0, y_mm + 15, z_mm + 4]
    return {"class": cls, "score": score, "box_lps": box, "box_voxel": [v + 100 for v in box]}


def _raw():
    discs = [_det("disc", 0.9, -35.0 * i) for i in range(6)]
    duplicate = _det("disc", 0.6, -35.0 * 2 + 1.0)  # overlaps disc 2: removed by NMS
    weak = _det("disc", 0.05, -300.0)  # under threshold
    herniation = _det("herniation", 0.8, -35.0 * 4 - 2, y_mm=18.0)
    herniation_dup = _det("herniation", 0.7, -35.0 * 4 - 1, y_mm=18.0)
    bulge = _det("bulge", 0.4, -35.0 * 5)
    return discs + [duplicate, weak, herniation, herniation_dup, bulge]


def test_postprocess_thresholds_nms_and_levels():
    raw = above_threshold(_raw(), score_threshold=0.3, disc_threshold=0.1)
    findings, discs = postprocess(raw, "lumbar", iou_threshold=0.5, disc_gap_mm=8.0)
    assert [d["level"] for d in discs] == ["T12/L1", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
    assert [(f["class"], f["level"], f["score"]) for f in findings] == [("herniation", "L4/L5", 0.8),
                                                                          ("bulge", "L5/S1", 0.4)]


def test_disc_threshold_separate():
    raw = _raw()
    assert sum(d["class"] == "disc" for d in above_threshold(raw, 0.95, 0.01)) == 8
    assert [d["class"] for d in above_threshold(raw, 0.5, 0.95)] == ["herniation", "herniation"]


def _dataset():
    findings, discs = postprocess(above_threshold(_raw(), 0.3, 0.3), "lumbar", 0.5, 8.0)
    info = {"id": "s1", "patient": "p1", "center": "unknown", "region": "lumbar", "view": "sagittal",
            "image": "../s1.nii.gz"}
    return predictions_dataset([scan_record(info, findings, discs)], ["stenosis", "herniation", "bulge"])


def test_predictions_dataset_is_valid_schema(tmp_path):
    data = _dataset()
    assert validate(data) == []
    assert data["classes"] == ["herniation", "bulge", "stenosis"]
    assert data["notice"] == NOTICE
    scan = data["scans"][0]
    assert set(scan["findings"][0]) == {"class", "level", "score", "box_lps", "box_voxel"}
    assert set(scan["discs"][0]) == {"level", "score", "box_lps", "box_voxel"}
    write_findings_json(tmp_path / "findings.json", data)
    assert (tmp_path / "findings.json").read_text().count(NOTICE) == 1


def test_csv_one_row_per_finding_with_corners():
    data = _dataset()
    text = findings_csv_text(data, {("s1", 0): "overlays/s1/finding-00.png"})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == CSV_COLUMNS
    assert len(rows) == 2
    assert rows[0]["class"] == "herniation" and rows[0]["level"] == "L4/L5"
    assert rows[0]["overlay"] == "overlays/s1/finding-00.png" and rows[1]["overlay"] == ""
    box = data["scans"][0]["findings"][0]["box_lps"]
    assert np.allclose([float(rows[0][k]) for k in ("x0_mm", "y0_mm", "z0_mm", "x1_mm", "y1_mm", "z1_mm")], box)
    assert all(r["notice"] == NOTICE for r in rows)


def test_has_extent_rejects_boxes_that_round_to_zero_size():
    ok = _det("disc", 0.9, 0.0)
    assert has_extent(ok)
    flat = {**ok, "box_voxel": [1.0, 2.0, 3.0, 5.0, 2.00001, 9.0]}
    assert not has_extent(flat)
    assert not has_extent({**ok, "box_lps": [0, 0, 0, 1, 1, 0]})
