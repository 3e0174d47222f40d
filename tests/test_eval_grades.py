"""Grades in the evaluation: quadratic weighted kappa equals scikit-learn's, the RSNA log loss a hand-written loop and
scikit-learn's weighted log_loss, both on random cases and on hand-computed ones; the matched levels of a small case
are worked by hand; `spinedet evaluate` writes the grade table."""

import json
import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, log_loss

from spinedet.cli import main
from spinedet.data.dataset import FORMAT
from spinedet.eval.grade_metrics import grade_metrics, quadratic_kappa, weighted_log_loss
from spinedet.eval.grade_pairs import grade_pairs

BOX = [0, 0, 0, 1, 1, 1]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")  # one grade only: both undefined
def test_kappa_equals_scikit_learn_on_random_cases():
    rng = np.random.default_rng(0)
    compared = 0
    for _ in range(300):
        size = int(rng.integers(2, 5))
        n = int(rng.integers(1, 40))
        truth = rng.integers(0, size, n)
        predicted = np.where(rng.random(n) < 0.6, truth, rng.integers(0, size, n))  # agreement above chance
        ours = quadratic_kappa(truth, predicted, size)
        theirs = cohen_kappa_score(truth, predicted, labels=list(range(size)), weights="quadratic")
        if math.isnan(theirs):
            assert ours is None
        else:
            assert ours == pytest.approx(theirs, abs=1e-12)
            compared += 1
    assert compared > 250


def test_kappa_of_a_hand_computed_case():
    """O = [[1,1,0],[0,1,0],[0,1,1]], margins (2,1,2) and (1,3,1): sum W O = 0.5, sum W E = 1.5, kappa = 2/3."""
    assert quadratic_kappa(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 1]), 3) == pytest.approx(2 / 3)
    assert quadratic_kappa(np.array([1, 1]), np.array([1, 1]), 3) is None  # one grade only: undefined


def _hand_log_loss(truth, probabilities) -> float:
    total, weights = 0.0, 0.0
    for y, row in zip(truth, probabilities):
        w = {0: 1.0, 1: 2.0, 2: 4.0}[int(y)]
        p = min(max(row[y] / sum(row), 1e-15), 1 - 1e-15)
        total -= w * math.log(p)
        weights += w
    return total / weights


def test_log_loss_equals_a_hand_written_one_and_scikit_learn_on_random_cases():
    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        truth = rng.integers(0, 3, n)
        probabilities = rng.dirichlet(np.ones(3), n) * rng.uniform(0.5, 2.0, (n, 1))  # rows not summing to 1
        ours = weighted_log_loss(truth, probabilities)
        assert ours == pytest.approx(_hand_log_loss(truth, probabilities), rel=1e-12)
        normalised = probabilities / probabilities.sum(1, keepdims=True)
        assert ours == pytest.approx(log_loss(truth, normalised, sample_weight=np.array([1, 2, 4])[truth],
                                              labels=[0, 1, 2]), rel=1e-9)


def test_log_loss_of_a_hand_computed_case():
    """-(1 ln 0.8 + 2 ln 0.5 + 4 ln 0.5) / 7 = (0.223144 + 4.158883) / 7 = 0.626004."""
    probabilities = np.array([[0.8, 0.1, 0.1], [0.25, 0.5, 0.25], [0.2, 0.3, 0.5]])
    assert weighted_log_loss(np.array([0, 1, 2]), probabilities) == pytest.approx(0.626004, abs=1e-6)


def _finding(name, level, score, grade=None, probabilities=None, box=BOX):
    f = {"class": name, "level": level, "score": score, "box_lps": box}
    if grade:
        f.update(grade=grade, grade_probability=probabilities[grade], grade_probabilities=probabilities)
    return f


def _scan(sid, findings, discs, **extra):
    return {"id": sid, "patient": f"p-{sid}", "center": "C1", "region": "lumbar", "view": "sagittal",
            "image": f"{sid}.nii.gz", "findings": findings, "discs": [{"level": lv, "box_lps": BOX} for lv in discs],
            **extra}


def _data(scans):
    return {"format": FORMAT, "classes": ["herniation", "bulge", "degenerated_disc", "stenosis"], "scans": scans}


SEVERE = {"mild": 0.1, "moderate": 0.2, "severe": 0.7}
MILD = {"mild": 0.5, "moderate": 0.3, "severe": 0.2}
TRUTH = _data([_scan("a", [_finding("stenosis", "L4/L5", 1.0, "severe", SEVERE),
                            {"class": "stenosis", "level": "L5/S1", "box_lps": BOX, "grade": "mild"}],
                     ["L2/L3", "L3/L4", "L4/L5", "L5/S1"], unlabelled=[{"class": "stenosis", "level": "L2/L3"}])])
PREDICTIONS = _data([_scan("a", [_finding("stenosis", "L3/L4", 0.3, "mild", MILD),
                                 _finding("stenosis", "L4/L5", 0.9, "severe", SEVERE),
                                 _finding("stenosis", "L2/L3", 0.8, "severe", SEVERE)],
                           ["L2/L3", "L3/L4", "L4/L5"])])


def test_matched_levels_by_hand():
    """L2/L3 unlabelled, L5/S1 not found: out. L3/L4 truth none, its finding below the threshold 0.5: none, with
    P = (0.7, 0.3 x MILD). L4/L5 severe, found severe at 0.9."""
    pairs = grade_pairs(TRUTH, PREDICTIONS, "stenosis", threshold=0.5)
    assert pairs.scale == ("none", "mild", "moderate", "severe")
    assert pairs.truth.tolist() == [0, 3] and pairs.predicted.tolist() == [0, 3]
    assert np.allclose(pairs.probabilities, [[0.7, 0.15, 0.09, 0.06], [0.1, 0.09, 0.18, 0.63]])
    assert grade_pairs(TRUTH, PREDICTIONS, "herniation", threshold=0.5) is None  # no grades in the truth
    ungraded = json.loads(json.dumps(PREDICTIONS))
    for f in ungraded["scans"][0]["findings"]:
        for key in ("grade", "grade_probability", "grade_probabilities"):
            f.pop(key)
    assert grade_pairs(TRUTH, ungraded, "stenosis", threshold=0.5) is None  # a model without the grade head


def test_normal_mild_pairs_put_a_class_on_the_rsna_scale():
    """RSNA truth: L4/L5 moderate, L5/S1 and L3/L4 normal/mild. Predicted L4/L5 moderate at 0.6, L5/S1 a finding
    at 0.2 (normal/mild, P = 0.8 + 0.2 x 0.5), L3/L4 no finding (P normal/mild = 1)."""
    moderate = {"mild": 0.1, "moderate": 0.6, "severe": 0.3}
    truth = _data([_scan("r", [_finding("stenosis", "L4/L5", 1.0, "moderate", moderate)], [],
                         normal_mild=[{"class": "stenosis", "level": lv} for lv in ("L3/L4", "L5/S1")])])
    predictions = _data([_scan("r", [_finding("stenosis", "L4/L5", 0.6, "moderate", moderate),
                                     _finding("stenosis", "L5/S1", 0.2, "mild", MILD)], ["L3/L4", "L4/L5", "L5/S1"])])
    m = grade_metrics(truth, predictions, ["stenosis"], threshold=0.5)["stenosis"]
    assert m["scale"] == ["normal/mild", "moderate", "severe"]
    assert m["confusion"] == [[2, 0, 0], [0, 1, 0], [0, 0, 0]] and m["kappa"] == pytest.approx(1.0)
    p_l34, p_l45, p_l51 = 1.0, 0.6 * 0.6, 0.8 + 0.2 * 0.5
    expected = -(math.log(p_l34) + 2 * math.log(p_l45) + math.log(p_l51)) / 4
    assert m["rsna_log_loss"] == pytest.approx(expected)


def test_evaluate_writes_the_grade_table(tmp_path):
    (tmp_path / "truth.json").write_text(json.dumps(TRUTH))
    (tmp_path / "predictions.json").write_text(json.dumps(PREDICTIONS))
    assert main(["evaluate", str(tmp_path / "truth.json"), str(tmp_path / "predictions.json"), "--out",
                 str(tmp_path / "out"), "--threshold", "0.5", "--bootstrap", "20"]) == 0
    grades = json.loads((tmp_path / "out" / "metrics.json").read_text())["groups"]["all"]["grades"]
    assert list(grades) == ["stenosis"] and grades["stenosis"]["n_levels"] == 2
    assert grades["stenosis"]["kappa"] == pytest.approx(1.0) and "kappa_ci" in grades["stenosis"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Grades on matched levels" in report
    assert "| all | stenosis | 2 | none < mild < moderate < severe | 1.000" in report


def test_kappa_among_found_findings_sees_a_constant_grade():
    """Every lesion found and called the middle grade: high kappa on the level scale (none counts), 0 among found
    findings; on random cases it equals scikit-learn's on the levels where both grades are above none."""
    from spinedet.eval.grade_metrics import class_grade_metrics
    from spinedet.eval.grade_pairs import GradePairs

    def pairs(truth, predicted):
        truth, predicted = np.array(truth), np.array(predicted)
        scale = ("none", "III", "IV", "V")
        return GradePairs("degenerated_disc", scale, truth, predicted, np.full((len(truth), 4), 0.25),
                          np.zeros(len(truth), int), ["p"])

    m = class_grade_metrics(pairs([0] * 20 + [1, 2, 3] * 3, [0] * 20 + [2] * 9), 0, 0)
    assert m["kappa"] > 0.8 and m["n_found"] == 9 and m["kappa_found"] == pytest.approx(0.0)
    rng = np.random.default_rng(3)
    for _ in range(50):
        truth, predicted = rng.integers(0, 4, 40), rng.integers(0, 4, 40)
        found = (truth > 0) & (predicted > 0)
        m = class_grade_metrics(pairs(truth, predicted), 0, 0)
        theirs = cohen_kappa_score(truth[found], predicted[found], labels=[1, 2, 3], weights="quadratic")
        assert m["n_found"] == found.sum() and m["kappa_found"] == pytest.approx(theirs)
