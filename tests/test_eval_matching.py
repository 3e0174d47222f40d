"""Hit rules and matching: IoU against MONAI's box_iou, vectorised matching against a per-scan loop."""

import numpy as np
import pytest
import torch
from monai.data.box_utils import box_iou

from spinedet.eval.matching import hit_quality, iou_3d
from spinedet.eval.table import build_table
from tests.eval_cases import random_cohort


def _reference_scan(quality: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fROC best truth, greedy VOC match) of one scan, by plain loops."""
    froc = np.array([int(q.argmax()) if q.size and q.max() >= 0 else -1 for q in quality], int)
    matched, free = np.full(len(scores), -1), np.ones(quality.shape[1], bool)
    for n in sorted(range(len(scores)), key=lambda i: -scores[i]):  # sorted() is stable
        q = np.where(free, quality[n], -1.0)
        if q.size and q.max() >= 0:
            matched[n] = int(q.argmax())
            free[matched[n]] = False
    return froc, matched


def test_iou_agrees_with_monai():
    rng = np.random.default_rng(0)
    lo_a, lo_b = rng.uniform(0, 5, (40, 3)), rng.uniform(0, 5, (30, 3))
    a = np.concatenate([lo_a, lo_a + rng.uniform(0.5, 4, (40, 3))], axis=1)
    b = np.concatenate([lo_b, lo_b + rng.uniform(0.5, 4, (30, 3))], axis=1)
    expected = box_iou(torch.as_tensor(a), torch.as_tensor(b)).numpy()
    np.testing.assert_allclose(iou_3d(a, b), expected, atol=1e-6)  # MONAI computes in float32


def test_hit_rules():
    truth = np.array([[0, 0, 0, 10, 10, 10]], float)
    pred = np.array([[5, 5, 5, 15, 15, 15], [9, 9, 9, 29, 29, 29], [20, 0, 0, 30, 10, 10]], float)
    iou = iou_3d(pred, truth)[:, 0]
    assert iou[0] == pytest.approx(125 / 1875)  # 5^3 overlap, 1000 + 1000 - 125 union
    assert (hit_quality(pred, truth, 0.05, False)[:, 0] >= 0).tolist() == [True, False, False]
    assert (hit_quality(pred, truth, 0.1, False)[:, 0] >= 0).tolist() == [False, False, False]
    # centre (19, 19, 19) lies outside; centre (10, 10, 10) on the edge counts as inside
    assert (hit_quality(pred, truth, 0.1, True)[:, 0] >= 0).tolist() == [True, False, False]


@pytest.mark.parametrize("center_hit", [False, True])
def test_vectorised_matching_equals_per_scan_loops(center_hit):
    rng = np.random.default_rng(1)
    for _ in range(20):
        truth, predictions = random_cohort(rng, 12)
        table = build_table(truth, predictions, iou_threshold=0.2, center_hit=center_hit)
        froc, match, offset = [], [], 0
        for t, p in zip(truth["scans"], predictions["scans"]):
            tb = np.array([f["box_lps"] for f in t["findings"]]).reshape(-1, 6)
            pb = np.array([f["box_lps"] for f in p["findings"]]).reshape(-1, 6)
            f, m = _reference_scan(hit_quality(pb, tb, 0.2, center_hit), np.array([f["score"] for f in p["findings"]]))
            froc += np.where(f >= 0, f + offset, -1).tolist()
            match += np.where(m >= 0, m + offset, -1).tolist()
            offset += len(tb)
        assert table.det_froc_truth.tolist() == froc
        assert table.det_match.tolist() == match
