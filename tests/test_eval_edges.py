"""Edge cases: no predictions, no truths, healthy scans, duplicates, ties, one box over two truths, bad boxes."""

import pytest

from spinedet.data.dataset import validate
from spinedet.eval import best_f1_threshold, curves, evaluate
from tests.eval_cases import cube, dataset, pred_box, scan, truth_box


def test_no_predictions():
    truth = dataset([scan("a", [truth_box(cube(0))]), scan("b", [])])
    for predictions in (dataset([]), dataset([{"id": "a", "findings": []}])):
        m = evaluate(truth, predictions)
        assert (m["n_scans"], m["n_truths"], m["n_detections"]) == (2, 1, 0)
        assert m["cpm"] == 0 and m["ap"] == 0 and (m["precision"], m["recall"], m["f1"]) == (0, 0, 0)
        assert all(v == 0 for v in m["sensitivity_at_fp"].values())


def test_missing_scans_warn_and_count_as_empty(capsys):
    truth = dataset([scan("a", [truth_box(cube(0))]), scan("b", [truth_box(cube(0))])])
    m = evaluate(truth, dataset([{"id": "a", "findings": [pred_box(cube(0), 0.9)]}]))
    assert capsys.readouterr().err.strip().endswith("1 truth scan(s) have no predictions and count as empty: b")
    assert m["recall"] == 0.5 and m["precision"] == 1.0 and m["n_scans"] == 2


def test_no_truths_and_healthy_scans():
    truth = dataset([scan("a", []), scan("b", [])])
    predictions = dataset([{"id": "a", "findings": [pred_box(cube(0), 0.9), pred_box(cube(20), 0.3)]}])
    m = evaluate(truth, predictions)
    assert m["n_truths"] == 0 and m["ap"] == 0 and m["recall"] == 0 and m["f1"] == 0 and m["cpm"] == 0
    assert evaluate(truth, predictions, score_threshold=0.5)["precision"] == 0.0
    # healthy scans still count in the FP rate: 2 FPs over 3 scans
    truth3 = dataset([scan("a", []), scan("b", []), scan("c", [truth_box(cube(50))])])
    c = curves(truth3, predictions)
    assert c["fps_per_scan"].max() == pytest.approx(2 / 3)  # thresholds .3 and .9 (0, the missed truth, is not)


def test_duplicates_are_fp_in_pr_but_not_in_froc():
    truth = dataset([scan("a", [truth_box(cube(0))])])
    predictions = dataset([{"id": "a", "findings": [pred_box(cube(1), 0.9), pred_box(cube(0.5), 0.8),
                                                    pred_box(cube(60), 0.1)]}])
    m = evaluate(truth, predictions, score_threshold=0.5)
    assert (m["precision"], m["recall"]) == (0.5, 1.0)  # the duplicate at .8 is a false positive here
    c = curves(truth, predictions)
    # fROC: the truth's probability is its best hit (.9), the .8 duplicate vanishes, the only FP is .1 (the
    # lowest, so not a threshold): one point at threshold .9 (0 FP/scan, sensitivity 1), then MONAI's (0, 0)
    assert c["fps_per_scan"].tolist() == [0.0, 0.0] and c["sensitivity"].tolist() == [1.0, 0.0]


def test_tied_scores_give_an_achievable_threshold():
    truth = dataset([scan("a", [truth_box(cube(0))])])
    # same score on a hit and two false positives: only "all three" or "none" is achievable
    predictions = dataset([{"id": "a", "findings": [pred_box(cube(0), 0.5), pred_box(cube(40), 0.5),
                                                    pred_box(cube(80), 0.5)]}])
    m = evaluate(truth, predictions)
    assert m["threshold"] == 0.5 and m["precision"] == pytest.approx(1 / 3) and m["recall"] == 1.0
    assert best_f1_threshold(truth, predictions) == 0.5


def test_one_prediction_over_two_truths():
    truth = dataset([scan("a", [truth_box([0, 0, 0, 10, 10, 10]), truth_box([8, 0, 0, 18, 10, 10])])])
    big = pred_box([1, 0, 0, 17, 10, 10], 0.9)  # IoU .625 with the first (10*10*9 / 1600 ... both large)
    m = evaluate(truth, dataset([{"id": "a", "findings": [big]}]), score_threshold=0.5)
    assert (m["precision"], m["recall"]) == (1.0, 0.5)  # one detection finds one lesion only
    second = pred_box([8, 0, 0, 18, 10, 10], 0.8)
    m = evaluate(truth, dataset([{"id": "a", "findings": [big, second]}]), score_threshold=0.5)
    assert (m["precision"], m["recall"]) == (1.0, 1.0)  # greedy: the second takes the truth left free


def test_discs_never_count_and_classes_filter():
    truth = dataset([scan("a", [truth_box(cube(0), "bulge")], discs=[{"level": "L4/L5", "box_lps": cube(30)}])])
    predictions = dataset([{"id": "a", "findings": [pred_box(cube(0), 0.9, "stenosis")],
                            "discs": [{"level": "L4/L5", "box_lps": cube(30), "score": 0.99}]}])
    m = evaluate(truth, predictions)
    assert (m["n_truths"], m["n_detections"], m["recall"]) == (1, 1, 1.0)  # class-agnostic over disease
    only = evaluate(truth, predictions, classes=["bulge"])
    assert (only["n_truths"], only["n_detections"]) == (1, 0)


def test_level_accuracy():
    truth = dataset([scan("a", [truth_box(cube(0), level="L4/L5"), truth_box(cube(50), level="L5/S1")])])
    predictions = dataset([{"id": "a", "findings": [pred_box(cube(0), 0.9, level="L4/L5"),
                                                    pred_box(cube(50), 0.8, level="L4/L5")]}])
    assert evaluate(truth, predictions, score_threshold=0.5)["level_accuracy"] == 0.5


def test_zero_volume_boxes_are_rejected_by_validation():
    data = dataset([scan("a", [truth_box([0, 0, 0, 10, 0, 10])])])
    problems = validate(data)
    assert problems == ["scan a.findings[0].box_lps: has zero or negative extent [0.0, 0.0, 0.0, 10.0, 0.0, 10.0] "
                        "(need x0<x1, y0<y1, z0<z1)"]


def test_perfect_detections_at_one_score_follow_monai():
    """Known consequence of MONAI's rule (the lowest distinct probability is no threshold): with every truth
    found at one score and no false positive, the fROC has only its (0, 0) point, so CPM is 0 while AP is 1."""
    truth = dataset([scan("a", [truth_box(cube(0)), truth_box(cube(50))])])
    predictions = dataset([{"id": "a", "findings": [pred_box(cube(0), 1.0), pred_box(cube(50), 1.0)]}])
    m = evaluate(truth, predictions)
    assert (m["ap"], m["f1"], m["cpm"]) == (1.0, 1.0, 0.0)
    # one missed truth (probability 0) restores the point: the two finds count, at 0 FP/scan
    truth["scans"][0]["findings"].append(truth_box(cube(100)))
    assert evaluate(truth, predictions)["cpm"] == pytest.approx(2 / 3)


def test_api_rejects_inverted_boxes_and_tolerates_collapsed_ones():
    from spinedet.errors import SpinedetError

    truth = dataset([scan("a", [truth_box(cube(0))])])
    bad = dataset([{"id": "a", "findings": [pred_box([5, 0, 0, 1, 10, 10], 0.9)]}])
    with pytest.raises(SpinedetError, match="scan a: box_lps .* has negative extent"):
        evaluate(truth, bad)
    collapsed = dataset([{"id": "a", "findings": [pred_box([5, 5, 5, 5, 10, 10], 0.9)]}])  # zero volume: no overlap
    assert evaluate(truth, collapsed, score_threshold=0.5)["precision"] == 0.0
