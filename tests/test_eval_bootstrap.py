"""Bootstrap: each vectorised resample equals evaluating the materialised resample; intervals behave."""

import numpy as np
import pytest

from spinedet.eval import evaluate
from spinedet.eval.bootstrap import resample_stats
from spinedet.eval.curves import FP_RATES
from spinedet.eval.table import build_table
from tests.eval_cases import random_cohort


def _materialise(truth: dict, predictions: dict, patients, counts) -> tuple[dict, dict]:
    """Copy each patient's scans as many times as the resample draws the patient."""
    by_id = {s["id"]: s for s in predictions["scans"]}
    t_scans, p_scans = [], []
    for patient, count in zip(patients, counts):
        for copy in range(int(count)):
            for s in (s for s in truth["scans"] if s["patient"] == patient):
                sid = f"{s['id']}#{copy}"
                t_scans.append({**s, "id": sid, "patient": f"{patient}#{copy}"})
                p_scans.append({**by_id[s["id"]], "id": sid})
    return {**truth, "scans": t_scans}, {**predictions, "scans": p_scans}


@pytest.mark.parametrize("center_hit", [False, True])
def test_each_resample_equals_the_materialised_resample(center_hit):
    rng = np.random.default_rng(3)
    compared = 0
    for _ in range(6):
        truth, predictions = random_cohort(rng, 10, score_levels=10_000)
        table = build_table(truth, predictions, center_hit=center_hit, warn=False)
        threshold = float(np.median(table.det_score)) if len(table.det_score) else 0.5
        counts = rng.multinomial(len(table.patients), np.full(len(table.patients), 1 / len(table.patients)), 8)
        stats = resample_stats(table, threshold, counts.astype(float))
        for row, c in enumerate(counts):
            t, p = _materialise(truth, predictions, table.patients, c)
            m = evaluate(t, p, center_hit=center_hit, score_threshold=threshold)
            if m["n_truths"] == 0:
                continue
            for key in ("precision", "recall", "f1", "ap", "cpm"):
                assert stats[key][row] == pytest.approx(m[key], abs=1e-9), key
            expected = [m["sensitivity_at_fp"][f"{r:g}"] for r in FP_RATES]
            np.testing.assert_allclose(stats["sensitivity_at_fp"][row], expected, rtol=0, atol=1e-9)
            compared += 1
    assert compared > 30


def test_intervals_contain_the_estimate_and_narrow_with_more_patients():
    rng = np.random.default_rng(4)
    widths = []
    for n_scans in (20, 320):
        truth, predictions = random_cohort(rng, n_scans, score_levels=1000)
        m = evaluate(truth, predictions, bootstrap=300, seed=1)
        for key in ("precision", "recall", "f1", "ap", "cpm"):
            low, high = m[f"{key}_ci"]
            assert low <= m[key] + 1e-9 and m[key] <= high + 1e-9, key
        widths.append(m["f1_ci"][1] - m["f1_ci"][0])
    assert widths[1] < widths[0] / 2
    again = evaluate(truth, predictions, bootstrap=300, seed=1)
    assert again["f1_ci"] == m["f1_ci"]  # seeded
