"""Does a batch of two scans cost about as much as one on the CPU for spinedet's predictor?

Times, for pairs of scans of one view, the finder's forward (batch 1, and batch 2 with both scans zero-padded to
one shape) and the judge's forward (each scan's disc crops, and both scans' crops in one batch of two, the shorter
crop list padded and masked), median wall and CPU seconds of --repeats after a warm-up, and the whole
`Predictor.predict` of one scan (loading excluded) for scale.
With --batch-sizes, instead: `predict_entries` (the study's and validation's path, loading included) on the set's
scans of the view, wall seconds per scan at each batch size in turn after a warm-up (`1 2 1 2` interleaves the
runs under a varying load), and how far each run's predictions are from the first run's (largest score difference
per finding and per disc of one scan, class and level; findings or discs that only one has; whether every scan's
level names agree). --interleave orders the scans alternately by centre, so that pairs mix centres (and shapes).
Usage: .venv/bin/python benchmarks/predict_batch.py --run RUN --set SET.json [--view sagittal] [--pairs 3]
       .venv/bin/python benchmarks/predict_batch.py --run RUN --set SET.json --view axial --batch-sizes 1 2
           [--split val] [--center C1] [--limit 16] [--interleave]
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
from spinedet.infer.level_predictor import find_discs, finder_input, input_section
from spinedet.infer.predictor import Predictor, pooled_batches, predict_entries
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
    x = [torch.from_numpy(finder_input(model, meta, s, region).array)[None, None] for s in scans]
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


def interleaved(entries: list[dict]) -> list[dict]:
    """Entries alternately from each centre (round robin, centres in order of first appearance)."""
    by_centre: dict = {}
    for e in entries:
        by_centre.setdefault(e["center"], []).append(e)
    rounds = max(len(group) for group in by_centre.values())
    return [group[n] for n in range(rounds) for group in by_centre.values() if n < len(group)]


def keyed_scores(scan: dict) -> tuple[dict, dict]:
    """A predicted scan's finding scores by (class, level) and disc scores by level."""
    return ({(f["class"], f["level"]): f["score"] for f in scan["findings"]},
            {d["level"]: d["score"] for d in scan["discs"]})


def agreement(reference: dict, other: dict) -> dict:
    """How far `other`'s predictions are from `reference`'s, scan by scan."""
    finding_diff = disc_diff = 0.0
    only_one = 0
    levels_agree = True
    for a, b in zip(reference["scans"], other["scans"]):
        (fa, da), (fb, db) = keyed_scores(a), keyed_scores(b)
        levels_agree &= [d["level"] for d in a["discs"]] == [d["level"] for d in b["discs"]]
        only_one += len(fa.keys() ^ fb.keys()) + len(da.keys() ^ db.keys())
        finding_diff = max([finding_diff] + [abs(fa[k] - fb[k]) for k in fa.keys() & fb.keys()])
        disc_diff = max([disc_diff] + [abs(da[k] - db[k]) for k in da.keys() & db.keys()])
    return {"max_finding_score_diff": finding_diff, "max_disc_score_diff": disc_diff,
            "findings_or_discs_in_one_only": only_one, "level_names_identical": levels_agree}


def batch_count(predictor: Predictor, scans: list, regions: list[str], batch_size: int) -> int:
    """How many batches predict_entries forms of these scans at `batch_size`."""
    items = list(zip(scans, regions))
    return len(list(pooled_batches(items, lambda item: predictor.batch_key(*item), batch_size)))


def measure_entries(predictor: Predictor, set_path: str, entries: list[dict], classes, batch_sizes) -> dict:
    """predict_entries at each batch size in turn (a size may recur, to interleave runs under a varying load): wall
    s per scan (after a warm-up of one batch), batches formed, and agreement with the first run's predictions; and
    for scale, the s per scan of loading alone (which batching does not change)."""
    start = time.perf_counter()
    scans = [load_scan(image_path(set_path, e), view=e["view"], region=e["region"]) for e in entries]
    regions = [e["region"] for e in entries]
    out: dict = {"scans": len(entries), "load_s_per_scan": (time.perf_counter() - start) / len(entries), "runs": []}
    reference = None
    for size in batch_sizes:
        predict_entries([predictor], set_path, entries[:size], classes, batch_size=size)
        start = time.perf_counter()
        predicted = predict_entries([predictor], set_path, entries, classes, batch_size=size)
        row = {"batch_size": size, "wall_s_per_scan": (time.perf_counter() - start) / len(entries),
               "batches": batch_count(predictor, scans, regions, size),
               "discs": sum(len(s["discs"]) for s in predicted["scans"]),
               "findings": sum(len(s["findings"]) for s in predicted["scans"])}
        if reference is None:
            reference = predicted
        else:
            row.update(agreement(reference, predicted))
        out["runs"].append(row)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--set", required=True)
    parser.add_argument("--view", default="sagittal")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", help="time predict_entries at these batch sizes")
    parser.add_argument("--split", help="only scans of this split")
    parser.add_argument("--center", action="append", help="only scans of this centre (repeatable)")
    parser.add_argument("--limit", type=int, help="at most this many scans")
    parser.add_argument("--interleave", action="store_true", help="scans alternately by centre")
    args = parser.parse_args(argv)
    predictor = Predictor.from_run(args.run)
    data = load_dataset(args.set)
    if args.batch_sizes:
        entries = [s for s in data["scans"] if s["view"] == args.view and s["region"] == predictor.meta["region"]
                   and (args.split is None or s["split"] == args.split)
                   and (args.center is None or s["center"] in args.center)]
        entries = (interleaved(entries) if args.interleave else entries)[: args.limit]
        summary = {"torch_threads": torch.get_num_threads(), "run": args.run, "set": args.set, "view": args.view,
                   **measure_entries(predictor, args.set, entries, data["classes"], args.batch_sizes)}
        print(json.dumps(summary, indent=1))
        return 0
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
