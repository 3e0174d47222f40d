"""`spinedet detect` on DICOM: a series folder, and a study where each model gets the series of its view."""

import json

import pytest

from dicom_fixtures import AXIAL_IOP, PATIENT_ID, PATIENT_NAME, image_values, write_series
from spinedet import cli
from spinedet.commands import detect
from spinedet.data.dataset import validate
from test_detect_cli import _RowPredictor


@pytest.fixture()
def fake_models(monkeypatch):
    monkeypatch.setattr(detect, "_load_predictors", lambda dirs: [_RowPredictor(*d.name.split("-")) for d in dirs])


def _study(root):
    write_series(root / "SE2", image_values(12, 120, 40), description="T2_TSE_SAG", series_number=2,
                 pixel_spacing=(1.0, 1.0), slice_step_mm=1.0)
    write_series(root / "SE3", image_values(12, 120, 40), description="T1_TSE_SAG", series_number=3, echo_time_ms=10,
                 repetition_time_ms=500, pixel_spacing=(1.0, 1.0), slice_step_mm=1.0)
    write_series(root / "SE4", image_values(6, 40, 40), iop=AXIAL_IOP, description="T2_TSE_TRA", series_number=4,
                 slice_step_mm=4.0, origin=(-10.0, -10.0, 0.0))
    return root


def test_study_each_model_gets_its_series(tmp_path, fake_models, capsys):
    study = _study(tmp_path / "study")
    out = tmp_path / "out"
    rc = cli.main(["detect", str(study), "--model", str(tmp_path / "sagittal-lumbar"),
                   "--model", str(tmp_path / "axial-lumbar"), "--out", str(out), "--no-overlays"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "model 1 (lumbar sagittal): sagittal T2" in printed and "T2_TSE_SAG" in printed
    assert "model 2 (lumbar axial): axial T2" in printed and "T2_TSE_TRA" in printed
    data = json.loads((out / "findings.json").read_text())
    assert validate(data) == []
    assert [(s["id"], s["view"]) for s in data["scans"]] == [("study-sagittal-s2", "sagittal"),
                                                            ("study-axial-s4", "axial")]
    assert data["scans"][0]["image"] == "../study"
    text = (out / "findings.json").read_text() + (out / "findings.csv").read_text()
    assert PATIENT_NAME.split("^")[0] not in text and PATIENT_ID not in text


def test_series_folder_and_study_without_fitting_series(tmp_path, fake_models, capsys):
    study = _study(tmp_path / "study")
    out = tmp_path / "out"
    assert cli.main(["detect", str(study / "SE2"), "--model", str(tmp_path / "sagittal-lumbar"),
                     "--out", str(out)]) == 0
    scan = json.loads((out / "findings.json").read_text())["scans"][0]
    assert scan["id"] == "SE2" and [d["level"] for d in scan["discs"]][-1] == "L5/S1"
    assert (out / "overlays" / "SE2" / "overview.png").is_file()
    assert cli.main(["detect", str(study), "--model", str(tmp_path / "coronal-lumbar"),
                     "--out", str(tmp_path / "out2")]) == 2
    assert "no series of this study fits any model" in capsys.readouterr().err
