"""Speed of `spinedet.eval.evaluate` on a large synthetic cohort (default 10,000 scans x 50 predictions)."""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from spinedet.data.dataset import DISEASE_CLASSES
from spinedet.eval import evaluate


def make_cohort(n_scans: int, preds_per_scan: int, seed: int = 0) -> tuple[dict, dict]:
    """Truth (0-4 findings per scan, 2 scans per patient) and predictions: jittered truths plus random boxes."""
    rng = np.random.default_rng(seed)
    n_truths = rng.integers(0, 5, n_scans)
    centres = rng.uniform(0, 200, (n_scans, preds_per_scan, 3))
    half = rng.uniform(2, 8, (n_scans, preds_per_scan, 3))
    half[:, :4] = 5.0
    truth_boxes = np.concatenate([centres - half, centres + half], axis=2).round(2)
    # jittered centre and size (jittering each corner on its own gave ~1% boxes of negative extent)
    pred_centres, pred_half = centres + rng.normal(0, 1.5, centres.shape), half * rng.lognormal(0, 0.2, half.shape)
    pred_boxes = np.concatenate([pred_centres - pred_half, pred_centres + pred_half], axis=2).round(2)
    scores = rng.beta(1, 4, (n_scans, preds_per_scan)).round(4)
    scores[:, :4] = rng.uniform(0.3, 1, (n_scans, 4)).round(4)
    classes = rng.integers(0, 4, (n_scans, preds_per_scan))
    truth_scans, pred_scans = [], []
    for n in range(n_scans):
        sid, k = f"s{n:05d}", int(n_truths[n])
        truth_scans.append({"id": sid, "patient": f"p{n // 2:05d}", "center": "C1", "region": "lumbar",
                            "view": "sagittal", "image": f"{sid}.nii.gz", "findings": [
                                {"class": DISEASE_CLASSES[c], "box_lps": b} for c, b in
                                zip(classes[n, :k].tolist(), truth_boxes[n, :k].tolist())]})
        pred_scans.append({"id": sid, "findings": [
            {"class": DISEASE_CLASSES[c], "box_lps": b, "score": s} for c, b, s in
            zip(classes[n].tolist(), pred_boxes[n].tolist(), scores[n].tolist())]})
    classes = list(DISEASE_CLASSES)
    return {"classes": classes, "scans": truth_scans}, {"classes": classes, "scans": pred_scans}


def _timed(fn, repeats: int) -> tuple[float, float, dict]:
    """(median wall s, median CPU s of this process, result) over `repeats` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return float(np.median(walls)), float(np.median(cpus)), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scans", type=int, default=10_000)
    parser.add_argument("--preds", type=int, default=50)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    truth, predictions = make_cohort(args.scans, args.preds)
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, numpy {np.__version__}, "
          f"load average {os.getloadavg()[0]:.1f} (machine shared with other work)")
    wall, cpu, m = _timed(lambda: evaluate(truth, predictions), args.repeats)
    print(f"evaluate, {args.scans} scans x {args.preds} predictions ({m['n_detections']} detections): "
          f"{wall:.2f} s wall, {cpu:.2f} s CPU (median of {args.repeats}; cpm {m['cpm']:.3f}, ap {m['ap']:.3f}, "
          f"f1 {m['f1']:.3f})")
    if args.bootstrap:
        wall_b, cpu_b, m = _timed(lambda: evaluate(truth, predictions, bootstrap=args.bootstrap), args.repeats)
        cis = ", ".join(f"{k} {v[0]:.3f}-{v[1]:.3f}" for k, v in m.items() if k.endswith("_ci"))
        print(f"evaluate with bootstrap {args.bootstrap}: {wall_b:.2f} s wall, {cpu_b:.2f} s CPU; the bootstrap "
              f"itself {wall_b - wall:.2f} s wall, {cpu_b - cpu:.2f} s CPU ({cis})")


if __name__ == "__main__":
    main()
