"""PR, AP, precision/recall/F1 and the F1-maximising threshold: a hand-worked case and independent counting."""

import numpy as np
import pytest

from spinedet.eval import best_f1_threshold, evaluate
from spinedet.eval.matching import iou_3d
from tests.eval_cases import cube, dataset, pred_box, random_cohort, scan, truth_box


def hand_case():
    """3 truths in 2 scans; by score: TP .9, FP .8, TP .7, duplicate .6 (FP), TP .5."""
    truth = dataset([scan("a", [truth_box(cube(0)), truth_box(cube(100))]), scan("b", [truth_box(cube(0))])])
    predictions = dataset([
        {"id": "a", "findings": [pred_box(cube(1), 0.9), pred_box(cube(50), 0.8), pred_box(cube(101), 0.7),
                                 pred_box(cube(2), 0.6)]},
        {"id": "b", "findings": [pred_box(cube(1), 0.5)]},
    ])
    return truth, predictions


def test_hand_worked_ap_and_f1():
    truth, predictions = hand_case()
    m = evaluate(truth, predictions)
    # precision 1, 1/2, 2/3, 1/2, 3/5 at recall 1/3, 1/3, 2/3, 2/3, 1; interpolated: 1, 2/3, 3/5
    assert m["ap"] == pytest.approx((1 + 2 / 3 + 3 / 5) / 3, abs=1e-12)
    # F1 at .9: 2*(1*1/3)/(4/3) = .5; at .7: P 2/3 R 2/3 -> 2/3; at .5: P 3/5 R 1 -> .75 (best)
    assert m["threshold"] == 0.5 and m["f1"] == pytest.approx(0.75)
    assert (m["precision"], m["recall"]) == (pytest.approx(0.6), pytest.approx(1.0))
    at = evaluate(truth, predictions, score_threshold=0.7)
    assert [at["precision"], at["recall"], at["f1"]] == pytest.approx([2 / 3, 2 / 3, 2 / 3])
    # fROC: the duplicate (.6) is neither TP nor FP, the only FP is .8 (0.5 FP/scan). As in MONAI (CAMELYON
    # code), the lowest score is not a threshold, so the .5 find never counts: 2/3 at 0.5 FP/scan and above.
    assert m["sensitivity_at_fp"]["0.5"] == pytest.approx(2 / 3) and m["sensitivity_at_fp"]["8"] == pytest.approx(2 / 3)
    assert m["sensitivity_at_fp"]["0.25"] == pytest.approx(1 / 3)  # points (0, 1/3) at .9, (0.5, 1/3) at .8
    assert m["n_truths"] == 3 and m["n_scans"] == 2


def _greedy_counts(truth, predictions, threshold):
    """Independent VOC matching over kept detections only: (tp, kept, truths), plus AP from the same loop."""
    events, n_truths = [], 0
    by_id = {s["id"]: s for s in predictions["scans"]}
    for t in truth["scans"]:
        tb = np.array([f["box_lps"] for f in t["findings"]]).reshape(-1, 6)
        n_truths += len(tb)
        preds = sorted(by_id[t["id"]]["findings"], key=lambda f: -f["score"])
        free = [True] * len(tb)
        for p in preds:
            iou = iou_3d(np.array([p["box_lps"]]), tb)[0] if len(tb) else np.zeros(0)
            candidates = [(iou[k], -k) for k in range(len(tb)) if free[k] and iou[k] >= 0.1]
            hit = bool(candidates)
            if hit:
                free[-max(candidates)[1]] = False
            events.append((p["score"], hit))
    kept = [h for s, h in events if s >= threshold]
    return sum(kept), len(kept), n_truths, events


def _reference_ap(events, n_truths):
    """AP as the sum over found truths of 1/n_truths x the best precision at that score or any lower one.

    Precision is taken at each distinct score with all detections scoring at least that much (tied detections
    enter together, as a threshold keeps them).
    """
    levels = sorted({s for s, _ in events}, reverse=True)
    precision = [sum(h for s, h in events if s >= level) / sum(1 for s, _ in events if s >= level) for level in levels]
    found = [sum(h for s, h in events if s == level) for level in levels]
    return sum(k * max(precision[i:]) for i, k in enumerate(found)) / n_truths


def test_random_cases_agree_with_direct_counting():
    rng = np.random.default_rng(2)
    checked = 0
    for _ in range(40):
        truth, predictions = random_cohort(rng, 8, score_levels=1000)  # a few ties
        scores = sorted({f["score"] for s in predictions["scans"] for f in s["findings"]})
        if not scores:
            continue
        threshold = scores[len(scores) // 2]
        tp, kept, n_truths, events = _greedy_counts(truth, predictions, threshold)
        if n_truths == 0:
            continue
        m = evaluate(truth, predictions, score_threshold=threshold)
        precision, recall = tp / kept, tp / n_truths
        assert m["precision"] == pytest.approx(precision) and m["recall"] == pytest.approx(recall)
        assert m["f1"] == pytest.approx(2 * precision * recall / (precision + recall) if tp else 0.0)
        assert m["ap"] == pytest.approx(_reference_ap(events, n_truths), abs=1e-12)
        best = max(scores, key=lambda s: (_f1(*_greedy_counts(truth, predictions, s)[:3]), s))
        assert best_f1_threshold(truth, predictions) == best
        checked += 1
    assert checked > 20


def _f1(tp, kept, n_truths):
    return 2 * tp / (kept + n_truths) if tp else 0.0
