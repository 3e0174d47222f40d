"""Bootstrap resamples where a metric is undefined (no truths, no kept detections) are left out, not counted as 0."""

import numpy as np

from spinedet.eval import evaluate
from spinedet.eval.bootstrap import bootstrap_ci, resample_stats
from spinedet.eval.table import build_table
from tests.eval_cases import cube, dataset, pred_box, scan, truth_box


def _one_positive_patient(n_healthy: int = 19):
    """One patient with one lesion found perfectly, the others healthy with no detections."""
    truth = dataset([scan("pos", [truth_box(cube(0))])] + [scan(f"h{i}", []) for i in range(n_healthy)])
    predictions = dataset([{"id": "pos", "findings": [pred_box(cube(0), 0.9)]}]
                          + [{"id": f"h{i}", "findings": []} for i in range(n_healthy)])
    return truth, predictions


def test_a_perfect_detector_has_degenerate_intervals():
    truth, predictions = _one_positive_patient()
    m = evaluate(truth, predictions, bootstrap=500, seed=2)
    assert (m["precision"], m["recall"], m["f1"], m["ap"]) == (1.0, 1.0, 1.0, 1.0)
    # with 20 patients, about (19/20)^20 = 36% of resamples draw no positive patient: they must not drag
    # the lower bounds to 0
    for key in ("precision", "recall", "f1", "ap"):
        assert m[f"{key}_ci"] == [1.0, 1.0], key


def test_resamples_without_truths_are_the_ones_left_out():
    truth, predictions = _one_positive_patient()
    table = build_table(truth, predictions, warn=False)
    counts = np.random.default_rng(0).multinomial(20, np.full(20, 1 / 20), 200).astype(float)
    stats = resample_stats(table, 0.5, counts)
    positive = list(table.patients).index("pos")
    np.testing.assert_array_equal(stats["n_truths"], counts[:, positive])
    np.testing.assert_array_equal(stats["n_kept"], counts[:, positive])
    assert 0 < (stats["n_truths"] == 0).sum() < 200  # the case under test does occur


def test_never_defined_gives_no_interval():
    truth = dataset([scan("a", []), scan("b", [])])
    predictions = dataset([{"id": "a", "findings": [pred_box(cube(0), 0.9)]}, {"id": "b", "findings": []}])
    ci = bootstrap_ci(build_table(truth, predictions, warn=False), 0.5, 200)
    assert ci["recall"] is None and ci["ap"] is None and ci["cpm"] is None
    # detections but no truths: precision and F1 are defined (0) where patient a is drawn, left out elsewhere
    assert ci["precision"] == [0.0, 0.0] and ci["f1"] == [0.0, 0.0]
