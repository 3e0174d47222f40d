"""Tied scores: the PR curve and AP do not depend on the order of tied detections; bootstrap stays exact."""

import numpy as np
import pytest

from spinedet.eval import curves, evaluate
from spinedet.eval.bootstrap import resample_stats
from spinedet.eval.table import build_table
from tests.eval_cases import cube, dataset, pred_box, random_cohort, scan, truth_box
from tests.test_eval_bootstrap import _materialise


def _tied_case(order):
    """3 truths; TP .9, then a tie at .5 of a FP and two TPs (in the given order), then a FP at .2."""
    tied = [pred_box(cube(50), 0.5), pred_box(cube(101), 0.5)]
    truth = dataset([scan("a", [truth_box(cube(0)), truth_box(cube(100))]), scan("b", [truth_box(cube(0))])])
    predictions = dataset([
        {"id": "a", "findings": [pred_box(cube(1), 0.9)] + [tied[k] for k in order] + [pred_box(cube(70), 0.2)]},
        {"id": "b", "findings": [pred_box(cube(1), 0.5)]},
    ])
    return truth, predictions


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_hand_worked_ap_with_a_tie(order):
    truth, predictions = _tied_case(order)
    # reachable points: at .9 recall 1/3 precision 1; at .5 recall 1 precision 3/4; at .2 recall 1 precision 3/5
    c = curves(truth, predictions)
    np.testing.assert_allclose(c["recall"], [1 / 3, 1, 1])
    np.testing.assert_allclose(c["precision"], [1, 3 / 4, 3 / 5])
    assert c["scores"].tolist() == [0.9, 0.5, 0.2]
    # AP = 1/3 x 1 + 2/3 x 3/4, whichever order the tied FP and TP come in (one order gave 1.0 before)
    assert evaluate(truth, predictions)["ap"] == pytest.approx(1 / 3 + 2 / 3 * 3 / 4, abs=1e-12)


def test_ap_does_not_depend_on_file_order():
    rng = np.random.default_rng(8)
    for _ in range(20):
        truth, predictions = random_cohort(rng, 8, score_levels=3, grid=20)  # sparse boxes, many ties
        expected = evaluate(truth, predictions)
        for scan_order in (rng.permutation(8) for _ in range(3)):
            shuffled = [{**predictions["scans"][k], "findings": [predictions["scans"][k]["findings"][j] for j in
                         rng.permutation(len(predictions["scans"][k]["findings"]))]} for k in scan_order]
            reordered = {**truth, "scans": [truth["scans"][k] for k in scan_order]}
            m = evaluate(reordered, {**predictions, "scans": shuffled})
            for key in ("ap", "cpm", "precision", "recall", "f1", "threshold"):
                assert m[key] == pytest.approx(expected[key], abs=1e-12), key


@pytest.mark.parametrize("center_hit", [False, True])
def test_bootstrap_equals_the_materialised_resample_with_ties(center_hit):
    rng = np.random.default_rng(9)
    compared = 0
    for _ in range(5):
        truth, predictions = random_cohort(rng, 6, score_levels=3)
        table = build_table(truth, predictions, center_hit=center_hit, warn=False)
        threshold = 0.5
        counts = rng.multinomial(len(table.patients), np.full(len(table.patients), 1 / len(table.patients)), 6)
        stats = resample_stats(table, threshold, counts.astype(float))
        for row, c in enumerate(counts):
            t, p = _materialise(truth, predictions, table.patients, c)
            m = evaluate(t, p, center_hit=center_hit, score_threshold=threshold)
            if m["n_truths"]:
                for key in ("ap", "cpm", "precision", "recall", "f1"):
                    assert stats[key][row] == pytest.approx(m[key], abs=1e-9), key
                compared += 1
    assert compared > 15
