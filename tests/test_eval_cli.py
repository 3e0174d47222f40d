"""`spinedet evaluate`: outputs, grouping, thresholds, bad input as one line with exit code 2."""

import json

import numpy as np
import pytest

from spinedet.cli import main
from spinedet.eval import best_f1_threshold, evaluate
from tests.eval_cases import random_cohort


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _sets(seed, n_scans=16):
    truth, predictions = random_cohort(np.random.default_rng(seed), n_scans, score_levels=1000)
    for n, s in enumerate(truth["scans"]):
        s.update(center=f"C{n % 2 + 1}", view=("sagittal", "axial")[n % 3 == 0])
        s["findings"][:1] = [{**f, "class": "bulge", "level": "L4/L5"} for f in s["findings"][:1]]
    predictions["scans"] = [{**t, "findings": p["findings"]} for t, p in zip(truth["scans"], predictions["scans"])]
    return truth, predictions


def test_outputs_groups_and_threshold_from(tmp_path, capsys):
    truth, predictions = _sets(0)
    val_truth, val_predictions = _sets(1)
    predictions["scans"] = predictions["scans"][:-1]  # one scan without predictions: a warning, no detections
    args = ["evaluate", str(_write(tmp_path, "truth.json", truth)), str(_write(tmp_path, "pred.json", predictions)),
            "--out", str(tmp_path / "out"), "--by", "center,view", "--bootstrap", "50",
            "--threshold-from", str(_write(tmp_path, "vp.json", val_predictions)),
            str(_write(tmp_path, "vt.json", val_truth))]
    assert main(args) == 0
    assert "1 truth scan(s) without predictions" in capsys.readouterr().err
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["froc.png", "metrics.json", "pr.png", "report.md"]
    result = json.loads((out / "metrics.json").read_text())
    threshold = best_f1_threshold(val_truth, val_predictions)
    assert result["settings"]["threshold"] == threshold
    expected = evaluate(truth, predictions, score_threshold=threshold)
    all_group = result["groups"]["all"]
    for key in ("cpm", "ap", "precision", "recall", "f1", "n_scans", "n_truths"):
        assert all_group[key] == pytest.approx(expected[key]), key
    assert set(all_group["ap_per_class"]) == set(truth["classes"]) and len(all_group["f1_ci"]) == 2
    groups = {g for g in result["groups"] if g != "all"}
    assert groups == {"C1 / axial", "C1 / sagittal", "C2 / axial", "C2 / sagittal"}
    c1_sag = [s for s in truth["scans"] if s["center"] == "C1" and s["view"] == "sagittal"]
    assert result["groups"]["C1 / sagittal"]["n_scans"] == len(c1_sag)
    report = (out / "report.md").read_text()
    assert "Research software, not a medical device." in report and "LUNA16 convention" in report
    assert report.count("| C1 /") + report.count("| C2 /") == 4 + 4  # result rows and per-class AP rows
    assert main(args) == 2  # the folder is not empty now
    assert "pass --overwrite" in capsys.readouterr().err


def test_by_class_center_rule_and_given_threshold(tmp_path):
    truth, predictions = _sets(2)
    out = tmp_path / "out"
    assert main(["evaluate", str(_write(tmp_path, "t.json", truth)), str(_write(tmp_path, "p.json", predictions)),
                 "--out", str(out), "--by", "class", "--center", "--threshold", "0.4", "--bootstrap", "0"]) == 0
    result = json.loads((out / "metrics.json").read_text())
    assert list(result["groups"]) == ["all", *truth["classes"]]
    bulge = evaluate(truth, predictions, classes=["bulge"], center_hit=True, score_threshold=0.4)
    assert result["groups"]["bulge"]["ap"] == pytest.approx(bulge["ap"])
    assert result["groups"]["bulge"]["f1"] == pytest.approx(bulge["f1"])
    assert "f1_ci" not in result["groups"]["all"] and result["settings"]["center_hit"] is True


@pytest.mark.parametrize("change, message", [
    (lambda t, p: t["scans"][0]["findings"].append({"class": "bulge", "box_lps": [0, 0, 0, 0, 1, 1]}),
     "zero or negative extent"),
    (lambda t, p: p["scans"][0]["findings"].append({"class": "bulge", "box_lps": [0, 0, 0, 1, 1, 1]}),
     "no 'score'"),
    (lambda t, p: p["scans"][0]["findings"].append({"class": "disc", "box_lps": [0, 0, 0, 1, 1, 1], "score": 1}),
     "is not one of the dataset's classes"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, change, message):
    truth, predictions = _sets(3, 4)
    change(truth, predictions)
    code = main(["evaluate", str(_write(tmp_path, "t.json", truth)), str(_write(tmp_path, "p.json", predictions)),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()
