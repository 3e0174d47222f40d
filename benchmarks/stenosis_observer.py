"""Does the axial image hold a stenosis's grade? A fixed reader, no learning: inside each graded stenosis's truth
box, the share of CSF-bright voxels (above 0.45 of the scan's 99.5th percentile) on each axial slice, and its
minimum over the slices (the narrowest level of the sac). Two cut-offs on that share, chosen on the training set to
maximise the quadratic kappa, grade the test set's stenoses; its kappa is comparable with the judge's kappa among
found stenoses. A reader that grades where the trained head does not says the evidence is in the image and the
learning fails. (Sagittal slices cut the canal lengthwise, so this reader is axial only.)

    python benchmarks/stenosis_observer.py out/study/sets/lumbar-train.json out/study/sets/internal.json

Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from spinedet.data.dataset import image_path, read_json
from spinedet.eval.grade_metrics import quadratic_kappa
from spinedet.io.geometry import box_world_to_voxel
from spinedet.io.load import load_scan

GRADE_RANK = {"mild": 0, "moderate": 1, "severe": 2}
CSF_FRACTION = 0.45


def narrowest_csf_share(scan, box_lps, csf_level: float) -> float:
    """The smallest, over the scan's slices, share of voxels above `csf_level` inside the box."""
    box = box_world_to_voxel(box_lps, scan.affine)
    start = np.clip(np.floor(box[:3]).astype(int), 0, np.array(scan.shape) - 1)
    stop = np.clip(np.ceil(box[3:]).astype(int) + 1, start + 1, np.array(scan.shape))
    inside = scan.array[start[0]:stop[0], start[1]:stop[1], start[2]:stop[2]]
    return float((inside > csf_level).mean(axis=(1, 2)).min())


def graded_stenoses(dataset: Path) -> tuple[np.ndarray, np.ndarray]:
    """(narrowest CSF share, grade rank) of every graded stenosis on the set's axial scans."""
    shares, grades = [], []
    data = read_json(dataset)
    for entry in (e for e in data["scans"] if e["view"] == "axial"):
        graded = [f for f in entry["findings"] if f["class"] == "stenosis" and f.get("grade") in GRADE_RANK]
        if graded:
            scan = load_scan(image_path(dataset, entry), view="axial", region=entry["region"])
            csf_level = CSF_FRACTION * np.percentile(scan.array, 99.5)
            shares += [narrowest_csf_share(scan, f["box_lps"], csf_level) for f in graded]
            grades += [GRADE_RANK[f["grade"]] for f in graded]
    return np.array(shares), np.array(grades)


def graded_by(shares: np.ndarray, cuts: tuple[float, float]) -> np.ndarray:
    """Severe below the lower cut, moderate below the upper, mild above."""
    return 2 - (shares >= cuts[0]).astype(int) - (shares >= cuts[1]).astype(int)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("train", type=Path)
    p.add_argument("test", type=Path)
    args = p.parse_args()
    shares, grades = graded_stenoses(args.train)
    candidates = np.unique(shares)
    cuts = max(((a, b) for a, b in itertools.combinations(candidates, 2)),
               key=lambda c: quadratic_kappa(grades, graded_by(shares, c), 3) or -1.0)
    test_shares, test_grades = graded_stenoses(args.test)
    for name, s, g in (("training", shares, grades), ("test", test_shares, test_grades)):
        means = " / ".join(f"{s[g == k].mean():.3f}" for k in range(3))
        print(f"{name}: {len(g)} axial stenoses, Spearman {spearmanr(s, g).correlation:.2f} of the narrowest CSF "
              f"share with the grade (mean mild / moderate / severe {means}); quadratic kappa of the fixed reader "
              f"(cuts {cuts[0]:.3f}, {cuts[1]:.3f}) {quadratic_kappa(g, graded_by(s, cuts), 3):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
