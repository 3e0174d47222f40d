"""Does a batch of two scans cost about as much as one on the CPU for spinedet's predictor?

Times, for pairs of scans of one view, the finder's forward (batch 1, and batch 2 with both scans zero-padded to
one shape) and the judge's forward (each scan's disc crops, and both scans' crops in one batch of two, the shorter
crop list padded and masked), median wall and CPU seconds of --repeats after a warm-up, and the whole
`Predictor.predict` of one scan (loading excluded) for scale.
Usage: .venv/bin/python benchmarks/predict_batch.py --run RUN --set SET.json [--view sagittal] [--pairs 3]
Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from spinedet.data.dataset import image_path, load_dataset
from spinedet.data.level_crops import CropVolume, disc_crops, resampled_affine
from spinedet.data.levels import ALL_LEVELS
from spinedet.data.preprocess import normalise, resample
from spinedet.infer.level_predictor import find_discs, input_section, padded
from spinedet.infer.predictor import Predictor
from spinedet.io.load import load_scan


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median (wall s, CPU s) of fn() over `repeats` calls after one warm-up."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def finder_input(model, meta, scan, region) -> torch.Tensor:
    section = input_section(meta, region, scan.view)["finder"]
    coarse, _ = resample(scan.array, scan.spacing_mm, section["spacing_mm"])
    return torch.from_numpy(padded(normalise(coarse), model.finder.total_stride))[None, None]


def judge_input(model, meta, scan, region) -> tuple[torch.Tensor, torch.Tensor]:
    discs = find_discs(model, meta, scan, region)
    crop = input_section(meta, region, scan.view)["crop"]
    fine, factor = resample(scan.array, scan.spacing_mm, crop["spacing_mm"])
    volume = CropVolume(normalise(fine), resampled_affine(scan.affine, factor), scan.view)
    made = disc_crops(volume, np.array([d["centre_lps"] for d in discs]).reshape(-1, 3), crop)
    return made.crops, torch.tensor([ALL_LEVELS.index(d["level"]) for d in discs])


def stack(tensors: list[torch.Tensor]) -> torch.Tensor:
    """Zero-pad (1, 1, D, H, W) tensors to one shape and concatenate them."""
    shape = np.max([t.shape[2:] for t in tensors], axis=0)
    return torch.cat([torch.nn.functional.pad(t, [p for n, s in zip(reversed(t.shape[2:]), reversed(shape))
                                                   for p in (0, int(s - n))]) for t in tensors])


@torch.no_grad()
def measure_pair(predictor: Predictor, scans, region: str, repeats: int) -> dict:
    model, meta = predictor.model, predictor.meta
    model.eval()
    x = [finder_input(model, meta, s, region) for s in scans]
    both = stack(x)
    crops = [judge_input(model, meta, s, region) for s in scans]
    k = max(len(c[1]) for c in crops)
    if min(len(c[1]) for c in crops) == 0:
        return {"skipped": "a scan without found discs"}
    batch_crops = torch.stack([torch.cat([c, c[:1].expand(k - len(c), *c.shape[1:])]) for c, _ in crops])
    batch_levels = torch.stack([torch.cat([lv, lv[:1].expand(k - len(lv))]) for _, lv in crops])
    valid = torch.stack([torch.arange(k) < len(lv) for _, lv in crops])
    out = {"finder_shapes": [list(t.shape[2:]) for t in x], "discs": [len(c[1]) for c in crops]}
    out["finder_1"] = [timed(lambda t=t: model.finder(t), repeats) for t in x]
    out["finder_2"] = timed(lambda: model.finder(both), repeats)
    out["judge_1"] = [timed(lambda c=c, lv=lv: model.judge(c[None], lv[None], torch.ones(1, len(lv), dtype=torch.bool)),
                            repeats) for c, lv in crops]
    out["judge_2"] = timed(lambda: model.judge(batch_crops, batch_levels, valid), repeats)
    out["predict_1"] = [timed(lambda s=s: predictor.predict(s, region), repeats) for s in scans]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--set", required=True)
    parser.add_argument("--view", default="sagittal")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    predictor = Predictor.from_run(args.run)
    data = load_dataset(args.set)
    entries = [s for s in data["scans"] if s["view"] == args.view][: 2 * args.pairs]
    scans = [load_scan(image_path(args.set, e), view=e["view"], region=e["region"]) for e in entries]
    results = [measure_pair(predictor, scans[n:n + 2], entries[n]["region"], args.repeats)
               for n in range(0, len(scans) - 1, 2)]
    summary = {"torch_threads": torch.get_num_threads(), "pairs": results}
    ok = [r for r in results if "skipped" not in r]
    if ok:
        one = sum(sum(w for w, _ in r["finder_1"]) + sum(w for w, _ in r["judge_1"]) for r in ok)
        two = sum(r["finder_2"][0] + r["judge_2"][0] for r in ok)
        one_cpu = sum(sum(c for _, c in r["finder_1"]) + sum(c for _, c in r["judge_1"]) for r in ok)
        two_cpu = sum(r["finder_2"][1] + r["judge_2"][1] for r in ok)
        summary["model_s_two_scans_one_by_one"] = one
        summary["model_s_two_scans_batched"] = two
        summary["batched_over_one_by_one_wall"] = two / one
        summary["batched_over_one_by_one_cpu"] = two_cpu / one_cpu
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
