"""fROC, its sensitivities and CPM agree with monai.metrics.froc on random cases (hypothesis), to 1e-9.

Truth boxes are disjoint voxel blocks painted into a label map; detections are single voxels, so the centre
hit rule ("predicted centre inside the truth box") is exactly MONAI's label-map lookup.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from monai.metrics.froc import compute_fp_tp_probs_nd, compute_froc_curve_data, compute_froc_score

from spinedet.eval import curves, evaluate
from spinedet.eval.curves import FP_RATES
from tests.eval_cases import dataset, pred_box, scan, truth_box

GRID = 8  # label map of GRID^3 voxels; truths are blocks inside the 8 disjoint 4^3 octants


@st.composite
def scans(draw):
    """One scan: truth blocks in distinct octants, voxel detections with scores k/16 (exact in float32)."""
    octants = draw(st.lists(st.integers(0, 7), unique=True, max_size=4))
    blocks = []
    for o in octants:
        base = np.array([(o >> 2) & 1, (o >> 1) & 1, o & 1]) * 4
        lo = base + np.array(draw(st.tuples(*[st.integers(0, 2)] * 3)))
        hi = lo + np.array(draw(st.tuples(*[st.integers(0, 1)] * 3)))
        blocks.append((lo, np.minimum(hi, base + 3)))
    n_det = draw(st.integers(0, 10))
    points = [draw(st.tuples(*[st.integers(0, GRID - 1)] * 3)) for _ in range(n_det)]
    scores = [draw(st.integers(0, 16)) / 16 for _ in range(n_det)]
    return blocks, points, scores


def _monai(cases):
    fp_all, tp_all, n_targets = [], [], 0
    for blocks, points, scores in cases:
        mask = np.zeros((GRID,) * 3, int)
        for label, (lo, hi) in enumerate(blocks, start=1):
            mask[lo[0]:hi[0] + 1, lo[1]:hi[1] + 1, lo[2]:hi[2] + 1] = label
        fp, tp, n = compute_fp_tp_probs_nd(np.array(scores, float), np.array(points, int).reshape(-1, 3), mask)
        fp_all.append(fp)
        tp_all.append(tp.astype(float))
        n_targets += n
    return np.concatenate(fp_all), np.concatenate(tp_all), n_targets


def _datasets(cases):
    truths, preds = [], []
    for n, (blocks, points, scores) in enumerate(cases):
        # voxel i spans [i-0.5, i+0.5]: a block lo..hi is the box [lo-0.5, hi+0.5]
        truths.append(scan(f"s{n}", [truth_box([*(lo - 0.5), *(hi + 0.5)]) for lo, hi in blocks], f"p{n // 2}"))
        preds.append({"id": f"s{n}", "findings": [pred_box([*(np.array(p) - 0.5), *(np.array(p) + 0.5)], s)
                                                  for p, s in zip(points, scores)]})
    return dataset(truths), dataset(preds)


@settings(max_examples=150, deadline=None)
@given(st.lists(scans(), min_size=1, max_size=5))
def test_froc_agrees_with_monai(cases):
    fp_probs, tp_probs, n_targets = _monai(cases)
    if n_targets == 0:
        return  # MONAI divides by zero targets; covered by the edge-case tests
    fps_per_scan, sensitivity = compute_froc_curve_data(fp_probs, tp_probs, n_targets, len(cases))
    truth, predictions = _datasets(cases)
    ours = curves(truth, predictions, center_hit=True)
    np.testing.assert_allclose(ours["fps_per_scan"], fps_per_scan, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours["sensitivity"], sensitivity, rtol=0, atol=1e-9)
    m = evaluate(truth, predictions, center_hit=True)
    expected = [compute_froc_score(fps_per_scan, sensitivity, (r,)) for r in FP_RATES]
    np.testing.assert_allclose([m["sensitivity_at_fp"][f"{r:g}"] for r in FP_RATES], expected, rtol=0, atol=1e-9)
    assert abs(m["cpm"] - compute_froc_score(fps_per_scan, sensitivity, FP_RATES)) <= 1e-9
    assert m["n_truths"] == n_targets and m["n_scans"] == len(cases)


def test_iou_hits_froc_agrees_with_monai_curve():
    """IoU rule: tp/fp probs from MONAI's box_iou by hand, then MONAI's curve and score against ours."""
    import torch
    from monai.data.box_utils import box_iou

    from tests.eval_cases import random_cohort

    rng = np.random.default_rng(5)
    for _ in range(30):
        truth, predictions = random_cohort(rng, 6, score_levels=9)
        fp_probs, tp_probs = [], []
        for t, p in zip(truth["scans"], predictions["scans"]):
            tb = torch.tensor([f["box_lps"] for f in t["findings"]], dtype=torch.float64).reshape(-1, 6)
            pb = torch.tensor([f["box_lps"] for f in p["findings"]], dtype=torch.float64).reshape(-1, 6)
            scores = np.array([f["score"] for f in p["findings"]])
            best = np.zeros(len(tb))
            iou = box_iou(pb, tb).numpy() if len(pb) and len(tb) else np.zeros((len(pb), len(tb)))
            for n, s in enumerate(scores):
                if len(tb) and iou[n].max() >= 0.1:
                    best[iou[n].argmax()] = max(best[iou[n].argmax()], s)
                else:
                    fp_probs.append(s)
            tp_probs += best.tolist()
        if not tp_probs:
            continue
        fps, sens = compute_froc_curve_data(np.array(fp_probs), np.array(tp_probs), len(tp_probs), 6)
        m = evaluate(truth, predictions)
        assert abs(m["cpm"] - compute_froc_score(fps, sens, FP_RATES)) <= 1e-9
