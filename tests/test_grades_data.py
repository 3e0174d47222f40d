"""Grades in the data: dataset.json's `grade`, `pfirrmann` and `normal_mild` are checked per class with one line per
problem, and the synthetic generator writes the grade it rendered (docs/datasets.md)."""

import json
from collections import Counter

import numpy as np

from spinedet.cli import main
from spinedet.data.dataset import FORMAT, read_json, validate
from spinedet.data.grades import GRADES
from spinedet.synth.lesions import pfirrmann_grade, sample_lesions, stenosis_grade
from spinedet.synth.patient import make_patient
from spinedet.synth.scanner import CENTRES
from spinedet.synth.stenosis import sac_ap_mm


def _dataset() -> dict:
    scan = {"id": "a", "patient": "p", "center": "C1", "region": "lumbar", "view": "sagittal", "image": "a.nii.gz",
            "findings": [{"class": "stenosis", "level": "L4/L5", "box_lps": [0, 0, 0, 1, 1, 1], "grade": "severe"},
                         {"class": "degenerated_disc", "level": "L5/S1", "box_lps": [0, 0, 0, 1, 1, 1], "grade": "IV"},
                         {"class": "bulge", "level": "L5/S1", "box_lps": [0, 0, 0, 1, 1, 1]}],
            "discs": [{"level": "L5/S1", "box_lps": [0, 0, 0, 1, 1, 1], "pfirrmann": "IV"}],
            "unlabelled": [{"class": "stenosis", "level": "L1/L2"}],
            "normal_mild": [{"class": "stenosis", "level": "L3/L4"}]}
    return {"format": FORMAT, "classes": ["herniation", "bulge", "degenerated_disc", "stenosis"], "scans": [scan]}


def _problems(edit) -> list[str]:
    data = _dataset()
    edit(data["scans"][0])
    return validate(data)


def test_valid_grades_pass():
    assert validate(_dataset()) == []


def test_each_bad_grade_is_one_problem_naming_its_field():
    cases = {
        "scan a.findings[0].grade: 'IV' for stenosis must be one of ['mild', 'moderate', 'severe']":
            lambda s: s["findings"][0].update(grade="IV"),
        "scan a.findings[2].grade: 'mild' for bulge must be absent: the class has no grades":
            lambda s: s["findings"][2].update(grade="mild"),
        "scan a.discs[0].pfirrmann: 'VI' must be one of ['I', 'II', 'III', 'IV', 'V']":
            lambda s: s["discs"][0].update(pfirrmann="VI"),
        "scan a.normal_mild[0]: stenosis at L4/L5 is graded normal/mild but has a finding":
            lambda s: s.update(normal_mild=[{"class": "stenosis", "level": "L4/L5"}]),
        "scan a.normal_mild[0]: stenosis at L1/L2 is graded normal/mild but listed as unlabelled":
            lambda s: s.update(normal_mild=[{"class": "stenosis", "level": "L1/L2"}]),
        "scan a.normal_mild[0].class: herniation is not graded on the stenosis scale":
            lambda s: s.update(normal_mild=[{"class": "herniation", "level": "L2/L3"}]),
        "scan a.findings[1].grade_probabilities: sum to 0.9000, not 1":
            lambda s: s["findings"][1].update(grade_probabilities={"III": 0.2, "IV": 0.6, "V": 0.1}),
        "scan a.findings[1].grade_probability: 1.5 must be a number in [0, 1]":
            lambda s: s["findings"][1].update(grade_probability=1.5),
    }
    data = _dataset()
    data["scans"][0]["findings"][0]["class"] = ["stenosis"]  # unhashable: one problem, no TypeError
    assert validate(data) == ["scan a.findings[0].class: ['stenosis'] is not one of the dataset's classes "
                              "['herniation', 'bulge', 'degenerated_disc', 'stenosis']"]
    for expected, edit in cases.items():
        assert _problems(edit) == [expected]


def test_validate_refuses_a_bad_grade_with_one_line_and_exit_2(tmp_path, capsys):
    data = _dataset()
    data["scans"][0]["findings"][1]["grade"] = "II"
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(data))
    (tmp_path / "a.nii.gz").touch()  # validate checks that the image exists, nothing more
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{path}: scan a.findings[1].grade: 'II' for degenerated_disc must be one of ['III', 'IV', 'V']",
                   f"{path}: 1 problem(s)"]


def test_synthetic_grades_follow_the_rendered_size_and_signal():
    rng = np.random.default_rng(3)
    lesions = [les for _ in range(400) for les in sample_lesions(rng, "lumbar", 65)]
    for les in lesions:
        assert les.grade in (GRADES[les.cls] if les.cls in ("degenerated_disc", "herniation") else (None,))
    grades = Counter((les.cls, les.grade) for les in lesions)
    assert all(grades[(c, g)] >= 10 for c in ("degenerated_disc", "herniation") for g in GRADES[c]), grades
    depth = {g: np.mean([les.params["depth_mm"] for les in lesions if les.grade == g]) for g in GRADES["herniation"]}
    assert depth["extrusion"] > depth["protrusion"] + 2
    assert [pfirrmann_grade(0.2, 0.55), pfirrmann_grade(0.35, 0.425), pfirrmann_grade(0.5, 0.3)] == ["III", "IV", "V"]
    assert [stenosis_grade(0.6), stenosis_grade(0.4), stenosis_grade(0.2)] == ["mild", "moderate", "severe"]


def test_a_stenosis_is_graded_by_the_sac_it_leaves_in_the_rendered_patient():
    """The stenosis grade follows the sac AP measured on the painted model, so a reader of the image can grade it
    (before, a flavum of random thickness could hide a mild stenosis more than a severe one)."""
    rng = np.random.default_rng(4)
    sac_mm = {g: [] for g in GRADES["stenosis"]}
    for n in range(120):
        patient = make_patient(f"p{n}", CENTRES["C1"], rng)
        for les in (les for les in patient.lesions if les.cls == "stenosis"):
            assert les.grade == stenosis_grade(les.params["sac_ap_left"]) and les.grade in les.detail
            disc = next(d for d in patient.spine.discs if d.level == les.level)
            sac_mm[les.grade].append(sac_ap_mm(patient.model, disc))
    assert all(len(v) >= 8 for v in sac_mm.values()), {g: len(v) for g, v in sac_mm.items()}
    mean = {g: np.mean(v) for g, v in sac_mm.items()}
    assert mean["mild"] > mean["moderate"] + 1.0 and mean["moderate"] > mean["severe"] + 1.0, mean


def test_the_generated_cohort_carries_the_grades(tiny_cohort):
    data = read_json(tiny_cohort)
    assert validate(data) == []
    findings = [f for s in data["scans"] for f in s["findings"]]
    graded = [f for f in findings if f["class"] in GRADES]
    assert graded and all(f["grade"] in GRADES[f["class"]] for f in graded)
    assert all(f["grade"] in f["detail"] for f in graded)  # the detail names the grade it was rendered with
    assert all("grade" not in f for f in findings if f["class"] == "bulge")
