"""Greedy matching and the PR curve agree with MONAI's COCO port (monai.apps.detection.metrics) on random cases.

Boxes and scores are continuous, so there are no IoU or score ties (the two conventions break those differently:
COCO keeps the last of equally good truths, we keep the first).
"""

import numpy as np
import pytest
from monai.apps.detection.metrics.coco import COCOMetric
from monai.apps.detection.metrics.matching import matching_batch
from monai.data.box_utils import box_iou

from spinedet.eval import curves, evaluate
from spinedet.eval.curves import average_precision
from spinedet.eval.table import build_table
from tests.eval_cases import dataset, pred_box, scan, truth_box

IOU = 0.1


def _cohort(rng: np.random.Generator, n_scans: int) -> tuple[dict, dict]:
    """Crowded scans: truths and predictions of 4-10 mm in a 22 mm cube (many multi-truth hits), scores uniform."""
    def boxes(k):
        lo = rng.uniform(0, 12, (k, 3))
        return np.concatenate([lo, lo + rng.uniform(4, 10, (k, 3))], axis=1)

    truths, preds = [], []
    for n in range(n_scans):
        truths.append(scan(f"s{n}", [truth_box(b) for b in boxes(int(rng.integers(0, 6)))], f"p{n}"))
        preds.append({"id": f"s{n}", "findings": [pred_box(b, rng.uniform()) for b in boxes(int(rng.integers(0, 12)))]})
    return dataset(truths), dataset(preds)


def _monai_matches(truth: dict, predictions: dict) -> list[dict]:
    """MONAI's COCO matching, class-agnostic (every box class 0), one image per scan."""
    def arrays(entries, with_score):
        b = np.array([f["box_lps"] for f in entries], float).reshape(-1, 6)
        s = np.array([f["score"] for f in entries], float) if with_score else None
        return b, np.zeros(len(b), int), s

    gts = [arrays(s["findings"], False) for s in truth["scans"]]
    dts = [arrays(s["findings"], True) for s in predictions["scans"]]
    return matching_batch(iou_fn=box_iou, iou_thresholds=[IOU], pred_boxes=[d[0] for d in dts],
                          pred_classes=[d[1] for d in dts], pred_scores=[d[2] for d in dts],
                          gt_boxes=[g[0] for g in gts], gt_classes=[g[1] for g in gts], max_detections=1000)


@pytest.mark.parametrize("seed", range(8))
def test_matching_pr_curve_and_ap_agree_with_monai_coco(seed):
    rng = np.random.default_rng(seed)
    truth, predictions = _cohort(rng, 20)
    results = _monai_matches(truth, predictions)
    # per scan, detections by descending score: true positive or not, MONAI against ours
    table = build_table(truth, predictions, warn=False)
    start = 0
    scores, hits = [], []
    for s, r in zip(predictions["scans"], results):
        n = len(s["findings"])
        ours = table.det_match[start:start + n] >= 0
        order = np.argsort(-table.det_score[start:start + n], kind="stable")
        theirs = r[0]["dtMatches"][0].astype(bool) if 0 in r else np.zeros(0, bool)
        np.testing.assert_array_equal(ours[order], theirs)
        scores.append(table.det_score[start:start + n][order])
        hits.append(theirs)
        start += n
    # AP from MONAI's matches, all points, against ours
    order = np.argsort(-np.concatenate(scores), kind="mergesort")
    tp = np.cumsum(np.concatenate(hits)[order])
    expected_ap = average_precision(tp / table.n_truths, tp / np.arange(1, len(tp) + 1))
    m = evaluate(truth, predictions)
    assert m["ap"] == pytest.approx(expected_ap, abs=1e-12)
    # COCO's 101-point AP (MONAI's COCOMetric) read off our PR curve
    coco = COCOMetric(classes=["disease"], iou_list=[IOU], iou_range=(IOU, IOU, 0.05), max_detection=[1000],
                      verbose=False)(results)[0]
    c = curves(truth, predictions)
    envelope = np.maximum.accumulate(c["precision"][::-1])[::-1]
    at = np.searchsorted(c["recall"], np.linspace(0, 1, 101), side="left")
    ap101 = np.mean([envelope[i] if i < len(envelope) else 0.0 for i in at])
    assert ap101 == pytest.approx(coco[f"AP_IoU_{IOU:.2f}_MaxDet_1000"], abs=1e-9)
