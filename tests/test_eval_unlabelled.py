"""Unlabelled (class, level) pairs: no truths there, predictions there neither TP nor FP, in every metric."""

import copy
import json

import numpy as np
import pytest

from spinedet.cli import main
from spinedet.data.dataset import validate
from spinedet.eval import evaluate
from spinedet.eval.groups import evaluate_groups
from tests.eval_cases import cube, dataset, pred_box, random_cohort, scan, truth_box

CLASSES = ["herniation", "bulge", "degenerated_disc", "stenosis"]
LEVELS = ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]


def pair(cls: str, level: str) -> dict:
    return {"class": cls, "level": level}


def hand_case() -> tuple[dict, dict]:
    """Three scans; scan a leaves stenosis L3/L4 and bulge L2/L3 unlabelled, healthy scan c herniation L4/L5."""
    truth = dataset([
        scan("a", [truth_box(cube(0), "herniation", "L4/L5"), truth_box(cube(20), "stenosis", "L3/L4")],
             unlabelled=[pair("stenosis", "L3/L4"), pair("bulge", "L2/L3")]),
        scan("b", [truth_box(cube(0), "herniation", "L5/S1")]),
        scan("c", [], unlabelled=[pair("herniation", "L4/L5")]),
    ])
    predictions = dataset([
        scan("a", [pred_box(cube(0), 0.9, "herniation", "L4/L5"),  # TP
                   pred_box(cube(20), 0.8, "stenosis", "L3/L4"),  # ignored (would hit a truth)
                   pred_box(cube(40), 0.7, "bulge", "L2/L3"),  # ignored (would be an FP)
                   pred_box(cube(60), 0.6, "bulge", "L1/L2")]),  # FP: L1/L2 is labelled
        scan("b", [pred_box(cube(50), 0.95, "stenosis", "L3/L4"),  # FP: the pair is unlabelled only in scan a
                   pred_box(cube(0), 0.5, "herniation", "L5/S1")]),  # TP
        scan("c", [pred_box(cube(0), 0.99, "herniation", "L4/L5")]),  # ignored (would be an FP)
    ])
    return truth, predictions


def test_hand_computed_metrics_leave_unlabelled_pairs_out():
    truth, predictions = hand_case()
    m = evaluate(truth, predictions)
    assert (m["n_scans"], m["n_truths"], m["n_detections"], m["n_ignored_detections"]) == (3, 2, 4, 3)
    # counted, by descending score: .95 FP, .9 TP, .6 FP, .5 TP; the F1-maximising threshold keeps all four
    assert m["threshold"] == 0.5
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((0.5, 1.0, 2 / 3))
    # PR points (R, P): (0, 0), (.5, .5), (.5, 1/3), (1, .5); precision made monotone from the right is .5 throughout
    assert m["ap"] == pytest.approx(0.5)
    # fROC: fp probs {.95, .6}, tp probs {.9, .5} (.5 the lowest, so no threshold); over 3 scans the points are
    # (2/3, .5) at .6, (1/3, .5) at .9, (1/3, 0) at .95, then (0, 0): sensitivity 0 below 1/3 FP/scan, .5 from there
    assert list(m["sensitivity_at_fp"].values()) == pytest.approx([0, 0, 0.5, 0.5, 0.5, 0.5, 0.5])
    assert m["cpm"] == pytest.approx(2.5 / 7)
    at = evaluate(truth, predictions, score_threshold=0.7)  # .8 and .7 are ignored, .95 and .9 kept
    assert (at["precision"], at["recall"], at["f1"]) == pytest.approx((0.5, 0.5, 0.5))


def test_without_the_lists_the_same_case_counts_everything():
    truth, predictions = hand_case()
    for s in truth["scans"]:
        s.pop("unlabelled", None)
    m = evaluate(truth, predictions, score_threshold=0.5)
    assert (m["n_truths"], m["n_detections"], m["n_ignored_detections"]) == (3, 7, 0)
    assert (m["precision"], m["recall"]) == pytest.approx((3 / 7, 1.0))


def test_per_class_ap_and_groups_respect_the_lists():
    truth, predictions = hand_case()
    metrics, curves = evaluate_groups(truth, predictions, keys=["class"], classes=CLASSES, threshold=0.5)
    assert metrics["all"]["ap_per_class"]["stenosis"] is None  # its only truth is unlabelled: AP undefined
    assert metrics["stenosis"]["n_detections"] == 1 and metrics["stenosis"]["n_ignored_detections"] == 1
    assert metrics["bulge"]["n_detections"] == 1 and metrics["bulge"]["precision"] == 0.0
    assert metrics["herniation"]["ap"] == pytest.approx(1.0)  # its .99 prediction in scan c is ignored
    assert curves["all"]["fps_per_scan"].max() == pytest.approx(2 / 3)


def labelled_cohort(seed: int) -> tuple[dict, dict]:
    """A random cohort with classes and levels drawn for every box and a few unlabelled pairs per scan."""
    rng = np.random.default_rng(seed)
    truth, predictions = random_cohort(rng, 24, max_truths=5, max_preds=10)
    for s in truth["scans"] + predictions["scans"]:
        for f in s["findings"]:
            f.update({"class": str(rng.choice(CLASSES[:2])), "level": str(rng.choice(LEVELS[:3]))})
    for s in truth["scans"]:
        pairs = {(str(rng.choice(CLASSES[:2])), str(rng.choice(LEVELS[:3]))) for _ in range(rng.integers(0, 3))}
        s["unlabelled"] = [pair(c, lv) for c, lv in sorted(pairs)]
    return truth, predictions


def deleted(truth: dict, predictions: dict) -> tuple[dict, dict]:
    """The same cohort with every truth and prediction at an unlabelled pair removed, and no lists."""
    truth, predictions = copy.deepcopy(truth), copy.deepcopy(predictions)
    ignored = {s["id"]: {(u["class"], u["level"]) for u in s.pop("unlabelled")} for s in truth["scans"]}
    for s in truth["scans"] + predictions["scans"]:
        s["findings"] = [f for f in s["findings"] if (f["class"], f["level"]) not in ignored[s["id"]]]
    return truth, predictions


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ignoring_equals_deleting_in_every_metric_and_interval(seed):
    truth, predictions = labelled_cohort(seed)
    assert validate(truth) == []
    cleaned_truth, cleaned_predictions = deleted(truth, predictions)
    ignored = sum(len(s["findings"]) for s in predictions["scans"]) - sum(
        len(s["findings"]) for s in cleaned_predictions["scans"])
    assert ignored > 0
    for threshold in (None, 0.5):
        got = evaluate(truth, predictions, score_threshold=threshold, bootstrap=100, seed=seed)
        want = evaluate(cleaned_truth, cleaned_predictions, score_threshold=threshold, bootstrap=100, seed=seed)
        assert got.pop("n_ignored_detections") == ignored and want.pop("n_ignored_detections") == 0
        assert got == want, threshold
    got, _ = evaluate_groups(truth, predictions, keys=["class"], classes=CLASSES, threshold=0.5)
    want, _ = evaluate_groups(cleaned_truth, cleaned_predictions, keys=["class"], classes=CLASSES, threshold=0.5)
    for label in got:
        got[label].pop("n_ignored_detections"), want[label].pop("n_ignored_detections")
        assert got[label] == want[label], label


@pytest.mark.parametrize("value, message", [
    ("stenosis L1/L2", "scan a.unlabelled: must be a list of objects with 'class' and 'level'"),
    (["stenosis"], "scan a.unlabelled[0]: must be an object with 'class' and 'level'"),
    ([pair("disc", "L1/L2")], "scan a.unlabelled[0].class: 'disc' is not one of the dataset's classes"),
    ([pair("stenosis", "L6/S1")], "scan a.unlabelled[0].level: 'L6/S1' is not a spinal level"),
    ([{"class": "stenosis"}], "scan a.unlabelled[0].level: None is not a spinal level"),
    ([pair("stenosis", "L1/L2"), pair("stenosis", "L1/L2")], "scan a.unlabelled[1]: stenosis at L1/L2 is listed twice"),
])
def test_a_bad_list_is_one_line_naming_the_file_the_scan_and_the_field(tmp_path, capsys, value, message):
    truth, predictions = hand_case()
    truth["scans"][0]["unlabelled"] = value
    assert any(message in p for p in validate(truth))
    paths = []
    for name, data in (("truth.json", truth), ("predictions.json", predictions)):
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(data))
    assert main(["evaluate", *map(str, paths), "--out", str(tmp_path / "out"), "--bootstrap", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(paths[0]) in err and message in err
    assert not (tmp_path / "out").exists()


def test_the_cli_reports_ignored_detections(tmp_path, capsys):
    truth, predictions = hand_case()
    paths = []
    for name, data in (("truth.json", truth), ("predictions.json", predictions)):
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(data))
    assert main(["evaluate", *map(str, paths), "--out", str(tmp_path / "out"), "--bootstrap", "0"]) == 0
    result = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert result["groups"]["all"]["n_ignored_detections"] == 3 and result["groups"]["all"]["n_truths"] == 2
    assert "neither TP nor FP" in (tmp_path / "out" / "report.md").read_text()
