"""fROC and PR figures: several labelled curves, empty ones included, written atomically as PNG."""

import numpy as np

from spinedet.eval import curves
from spinedet.eval.plots import plot_froc, plot_pr
from tests.eval_cases import dataset, random_cohort, scan


def test_plots_with_several_and_empty_curves(tmp_path):
    truth, predictions = random_cohort(np.random.default_rng(0), 10, score_levels=100)
    groups = {"all": curves(truth, predictions, score_threshold=0.5),
              "centre rule": curves(truth, predictions, center_hit=True, score_threshold=0.5),
              "no detections": curves(dataset([scan("a", [])]), dataset([]), score_threshold=0.5)}
    for plot, name in ((plot_froc, "froc.png"), (plot_pr, "pr.png")):
        plot(groups, tmp_path / name)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["froc.png", "pr.png"]  # no temporary left


def test_operating_point_is_on_the_curves():
    truth, predictions = random_cohort(np.random.default_rng(1), 12, score_levels=1000)
    c = curves(truth, predictions, score_threshold=0.5)
    recall, precision = c["operating_point"]["pr"]
    kept = c["scores"] >= 0.5
    assert (recall, precision) == (c["recall"][kept][-1], c["precision"][kept][-1])
    fp_rate, sensitivity = c["operating_point"]["froc"]
    assert any(np.isclose(fp_rate, c["fps_per_scan"]) & np.isclose(sensitivity, c["sensitivity"]))
