"""`spinedet detect` end to end with a test-double predictor whose detections are known."""

import csv
import json

import numpy as np
import pytest

from spinedet import cli
from spinedet.commands import detect
from spinedet.data.dataset import validate
from spinedet.infer.findings import NOTICE
from spinedet.io import geometry
from spinedet.io.image_file import write_volume

# Sagittal volume indexed (x R->L, y A->P, z I->S) as a NIfTI-like file would be, 1 x 1 x 1 mm.
SHAPE_XYZ = (12, 40, 120)


class _RowPredictor:
    """Names 5 discs at known canonical rows and finds a herniation at the 4th from the top and a
    weak bulge at the 1st, as a trained run's Predictor.predict would."""

    LEVELS = ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]

    def __init__(self, view="sagittal", region="lumbar", threshold=0.5):
        self.meta = {"config": {}, "classes": ["herniation", "bulge", "disc"], "view": view, "region": region,
                     "threshold": threshold, "preprocessing": {}}

    def predict(self, scan, region=None):
        rows = [20.0, 40.0, 60.0, 80.0, 100.0]
        discs = [self._det(scan, "disc", level, 0.9 - 0.01 * n, [2.5, r - 3, 5.5, 8.5, r + 3, 25.5])
                 for n, (level, r) in enumerate(zip(self.LEVELS, rows))]
        findings = [self._det(scan, "herniation", "L4/L5", 0.8, [4.5, 78, 25.5, 7.5, 84, 30.5]),
                    self._det(scan, "bulge", "L1/L2", 0.3, [4.5, 18, 25.5, 7.5, 22, 30.5])]  # below threshold
        return findings, discs

    def batch_key(self, scan, region=None):
        return scan.view, region

    def predict_batch(self, scans, regions):
        return [self.predict(scan, region) for scan, region in zip(scans, regions)]

    @staticmethod
    def _det(scan, cls, level, score, box_voxel):
        return {"class": cls, "level": level, "score": score, "box_voxel": box_voxel,
                "box_lps": list(geometry.box_voxel_to_world(box_voxel, scan.affine))}


def _write_scan(path):
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    affine[:3, 3] = [-6.0, -20.0, -60.0]
    rng = np.random.default_rng(0)
    write_volume(path, rng.random(SHAPE_XYZ).astype(np.float32), affine)


@pytest.fixture()
def fake_models(monkeypatch):
    made = {}

    def load(run_dirs):
        return [made.setdefault(str(d), _RowPredictor(*str(d.name).split("-"))) for d in run_dirs]

    monkeypatch.setattr(detect, "_load_predictors", load)


def test_detect_scan_file(tmp_path, fake_models, capsys):
    _write_scan(tmp_path / "s1.nii.gz")
    out = tmp_path / "out"
    rc = cli.main(["detect", str(tmp_path / "s1.nii.gz"), "--model", str(tmp_path / "sagittal-lumbar"),
                   "--out", str(out)])
    assert rc == 0
    data = json.loads((out / "findings.json").read_text())
    assert validate(data, out) == []
    assert data["notice"] == NOTICE
    scan = data["scans"][0]
    assert scan["id"] == "s1" and scan["image"] == "../s1.nii.gz"
    assert [d["level"] for d in scan["discs"]] == ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
    assert [(f["class"], f["level"], f["score"]) for f in scan["findings"]] == [("herniation", "L4/L5", 0.8)]
    rows = list(csv.DictReader((out / "findings.csv").open()))
    assert [(r["scan_id"], r["class"], r["level"]) for r in rows] == [("s1", "herniation", "L4/L5")]
    assert (out / rows[0]["overlay"]).is_file() and (out / "overlays" / "s1" / "overview.png").is_file()
    assert NOTICE in (out / "README.txt").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "findings.csv", "findings.json", "overlays",
                                                     "report.html"]
    printed = capsys.readouterr().out
    assert "discs L1/L2 L2/L3 L3/L4 L4/L5 L5/S1" in printed
    assert "sr.dcm skipped: scan s1 is not a DICOM series" in printed  # NIfTI input: no SR, one line says why


def test_threshold_override_and_refusals(tmp_path, fake_models, capsys):
    _write_scan(tmp_path / "s1.nii.gz")
    out = tmp_path / "out"
    args = ["detect", str(tmp_path / "s1.nii.gz"), "--model", str(tmp_path / "sagittal-lumbar"), "--out", str(out),
            "--no-overlays"]
    assert cli.main(args + ["--threshold", "0.25"]) == 0
    findings = json.loads((out / "findings.json").read_text())["scans"][0]["findings"]
    assert sorted(f["class"] for f in findings) == ["bulge", "herniation"]
    assert cli.main(args) == 2
    assert "not empty" in capsys.readouterr().err
    assert cli.main(args + ["--overwrite"]) == 0
    assert len(json.loads((out / "findings.json").read_text())["scans"][0]["findings"]) == 1
    # An axial-only model does not fit a sagittal scan: one-line error, nothing written.
    out2 = tmp_path / "out2"
    assert cli.main(["detect", str(tmp_path / "s1.nii.gz"), "--model", str(tmp_path / "axial-lumbar"),
                     "--out", str(out2)]) == 2
    assert "no model is for that view" in capsys.readouterr().err
    assert not out2.exists()  # not even the empty --out folder


def test_detect_dataset_json(tmp_path, fake_models, capsys):
    (tmp_path / "images").mkdir()
    for sid in ("a", "b"):
        _write_scan(tmp_path / "images" / f"{sid}.nii.gz")
    scans = [
        {"id": "a", "patient": "p1", "center": "C1", "region": "lumbar", "view": "sagittal",
         "image": "images/a.nii.gz", "split": "test", "findings": []},
        {"id": "b", "patient": "p2", "center": "C2", "region": "cervical", "view": "sagittal",
         "image": "images/b.nii.gz", "findings": []},
    ]
    (tmp_path / "dataset.json").write_text(json.dumps({"format": "spinedet-dataset/1", "classes": ["herniation"],
                                                      "scans": scans}))
    out = tmp_path / "pred"
    rc = cli.main(["detect", str(tmp_path / "dataset.json"), "--model", str(tmp_path / "sagittal-lumbar"),
                   "--out", str(out), "--no-overlays"])
    assert rc == 0
    data = json.loads((out / "findings.json").read_text())
    assert validate(data, out) == []
    assert [(s["id"], s["patient"], s["center"], s.get("split")) for s in data["scans"]] == [("a", "p1", "C1", "test")]
    assert "1 of 2 scans match no model" in capsys.readouterr().out


def test_failure_midway_leaves_nothing(tmp_path, fake_models, capsys):
    (tmp_path / "images").mkdir()
    _write_scan(tmp_path / "images" / "a.nii.gz")
    (tmp_path / "images" / "b.nii.gz").write_bytes(b"not a nifti file")
    scans = [{"id": sid, "patient": sid, "center": "C1", "region": "lumbar", "view": "sagittal",
              "image": f"images/{sid}.nii.gz", "findings": []} for sid in ("a", "b")]
    (tmp_path / "dataset.json").write_text(json.dumps({"format": "spinedet-dataset/1", "classes": ["herniation"],
                                                      "scans": scans}))
    out = tmp_path / "pred"
    rc = cli.main(["detect", str(tmp_path / "dataset.json"), "--model", str(tmp_path / "sagittal-lumbar"),
                   "--out", str(out)])
    assert rc == 2
    assert "b.nii.gz" in capsys.readouterr().err
    assert not out.exists()  # the --out folder made for the run is gone too


def test_scan_id_of_strips_image_suffixes():
    from pathlib import Path

    from spinedet.infer.inputs import scan_id_of

    assert scan_id_of(Path("/x/sub-01_T2w.nii.gz")) == "sub-01_T2w"
    assert scan_id_of(Path("a.b.mha")) == "a.b"
    assert scan_id_of(Path("/study/SE000003")) == "SE000003"


def test_disc_threshold_drops_discs_and_their_findings(tmp_path, fake_models):
    _write_scan(tmp_path / "s1.nii.gz")
    out = tmp_path / "out"
    assert cli.main(["detect", str(tmp_path / "s1.nii.gz"), "--model", str(tmp_path / "sagittal-lumbar"),
                     "--out", str(out), "--no-overlays", "--threshold", "0.25", "--disc-threshold", "0.875"]) == 0
    scan = json.loads((out / "findings.json").read_text())["scans"][0]
    assert [d["level"] for d in scan["discs"]] == ["L1/L2", "L2/L3", "L3/L4"]
    assert [(f["class"], f["level"]) for f in scan["findings"]] == [("bulge", "L1/L2")]
