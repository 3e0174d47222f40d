"""What the level finder sees on a set's scans, beside the truth: every heatmap peak (score, height, likeliest
levels) and the discs that level naming keeps, per scan, to tell a missed disc from a misnamed or dropped one.

    python benchmarks/disc_candidates.py RUN SET.json --view axial [--max-scans 8] [--floor 0.05]

Heights are LPS z in mm (head up); truth discs are listed by level and the z of their box centre.
Research software, not a medical device.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from spinedet.data.dataset import image_path, read_json
from spinedet.data.levels import ALL_LEVELS
from spinedet.infer.disc_peaks import disc_peaks
from spinedet.infer.level_predictor import finder_input
from spinedet.infer.predictor import Predictor
from spinedet.io import geometry
from spinedet.io.load import load_scan


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("set")
    p.add_argument("--view", choices=("sagittal", "axial"), required=True)
    p.add_argument("--max-scans", type=int, default=8)
    p.add_argument("--floor", type=float, default=0.05, help="lowest heatmap peak listed")
    args = p.parse_args()
    predictor = Predictor.from_run(args.run)
    model, meta = predictor.model, predictor.meta
    entries = [e for e in read_json(args.set)["scans"] if e["view"] == args.view][: args.max_scans]
    for entry in entries:
        scan = load_scan(image_path(args.set, entry), view=entry["view"], region=entry["region"])
        truth = [(d["level"], round((d["box_lps"][2] + d["box_lps"][5]) / 2)) for d in entry["discs"]]
        _, kept = predictor.predict(scan, entry["region"])
        print(f"{entry['id']}: truth {truth}; kept {[(d['level'], round(float(d['centre_lps'][2]))) for d in kept]}")
        given = finder_input(model, meta, scan, entry["region"])
        with torch.no_grad():
            out = model.eval().finder(torch.from_numpy(given.array)[None, None])
        peaks = disc_peaks(out, model.finder.out_stride, args.floor, 24)
        heights = geometry.voxel_to_world(peaks.centres, given.affine).reshape(-1, 3)[:, 2]
        for score, height, probs in zip(peaks.scores, heights, peaks.level_probs):
            likeliest = [f"{ALL_LEVELS[n]} {probs[n]:.2f}" for n in np.argsort(-probs)[:2]]
            print(f"  peak {score:.2f} at z {height:.0f}: {', '.join(likeliest)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
