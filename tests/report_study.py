"""A DICOM study of one synthetic patient (sagittal and axial T2 series, one frame of reference) and a predictor that
returns that patient's truth boxes, for the tests of report.html and sr.dcm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import generate_uid

from dicom_fixtures import write_series
from spinedet.data.grades import GRADES
from spinedet.io import geometry
from spinedet.synth.cohort import patient_rng, resolve_config
from spinedet.synth.patient import make_patient, render_scan
from spinedet.synth.scanner import CENTRES, coarsened

# Patient-module attributes beyond the required four, written into the source files: the SR must not copy them.
EXTRA_PATIENT = {"PatientAddress": "17 Qwertz Lane, Xyzzyville", "OtherPatientIDs": "OTHER-5521-ZZ",
                 "PatientAge": "057Y", "PatientSex": "F"}


def _write_view(folder: Path, rendered, study_uid: str, description: str, number: int) -> None:
    a = rendered.affine
    row_dir, column_dir = a[:3, 2] / np.linalg.norm(a[:3, 2]), a[:3, 1] / np.linalg.norm(a[:3, 1])
    normal = np.cross(row_dir, column_dir)
    n = rendered.image.shape[0]
    facts = write_series(folder, np.clip(rendered.image, 0, None).astype(np.uint16), iop=(row_dir, column_dir),
                         pixel_spacing=(float(np.linalg.norm(a[:3, 1])), float(np.linalg.norm(a[:3, 2]))),
                         origin=a[:3, 3], offsets_mm=np.arange(n) * float(a[:3, 0] @ normal),
                         description=description, series_number=number, study_uid=study_uid)
    for path in facts["files"]:
        ds = pydicom.dcmread(path)
        for keyword, value in EXTRA_PATIENT.items():
            setattr(ds, keyword, value)
        ds.StudyDate = ds.SeriesDate = "20260301"
        ds.save_as(path)


def synthetic_study(root: Path) -> tuple[Path, dict]:
    """Write the study under root/study (SE2 sagittal, SE5 axial); return it and the rendered scans by view."""
    config = resolve_config("tiny", {})
    profile = coarsened(CENTRES["C1"], config["min_pixel_mm"], config["max_slices"])
    rng = patient_rng(0, "C1", 1)
    patient = make_patient("c1-0001", profile, rng)
    rendered = {view: render_scan(patient, view, profile, rng, config["sub_slices"]) for view in ("sagittal", "axial")}
    study, study_uid = root / "study", generate_uid()
    _write_view(study / "SE2", rendered["sagittal"], study_uid, "T2_TSE_SAG", 2)
    _write_view(study / "SE5", rendered["axial"], study_uid, "T2_TSE_TRA", 5)
    return study, rendered


GRADE_PROBABILITY = 0.8  # of a truth finding's own grade; the rest of its class's scale shares the remainder


def _graded(finding: dict) -> dict:
    """A truth finding's grade fields as a grading model gives them (none for an ungraded finding)."""
    if "grade" not in finding:
        return {}
    scale = GRADES[finding["class"]]
    rest = (1 - GRADE_PROBABILITY) / (len(scale) - 1)
    return {"grade": finding["grade"], "grade_probability": GRADE_PROBABILITY,
            "grade_probabilities": {g: GRADE_PROBABILITY if g == finding["grade"] else rest for g in scale}}


class TruthPredictor:
    """Returns the synthetic patient's truth findings (score 0.9, graded as the truth grades them) and discs of the
    scan's view, as a Predictor would."""

    def __init__(self, rendered: dict, view: str, region: str = "lumbar"):
        self.rendered = rendered[view]
        self.meta = {"config": {}, "classes": ["herniation", "bulge", "degenerated_disc", "stenosis", "disc"],
                     "view": view, "region": region, "threshold": 0.5, "preprocessing": {}, "spinedet_version": "test"}

    def batch_key(self, scan, region=None):
        return scan.view, region

    def predict_batch(self, scans, regions):
        return [self.predict(scan, region) for scan, region in zip(scans, regions)]

    def predict(self, scan, region=None):
        def det(entry, cls, score):
            box = entry["box_lps"]
            return {"class": cls, "level": entry["level"], "score": score, "box_lps": box,
                    "box_voxel": list(geometry.box_world_to_voxel(np.asarray(box, float), scan.affine))}

        return ([{**det(f, f["class"], 0.9), **_graded(f)} for f in self.rendered.findings],
                [det(d, "disc", 0.95) for d in self.rendered.discs])
