"""Inference speed of the level design: per-scan seconds (finder and judge apart), FLOPs and peak memory.

A model is a trained run folder (`--runs`, e.g. a study's out/study/models/lumbar-sagittal) or a config
(`--configs`, untrained: its finder's heatmap bias is raised so that every local maximum becomes a disc
candidate, the worst case of MAX_PEAKS judge crops). Each model runs in its own subprocess so that its peak
resident memory (ru_maxrss) is its own.
Usage: .venv/bin/python benchmarks/infer_speed.py [--runs RUN ...] [--configs small paper] [--scan PATH]
       [--region lumbar] [--repeats 5] [--threads N]
Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SCAN = REPO.parent / "shared" / "realdata" / "lumbar_sag_t2.nii.gz"


def cpu_model() -> str:
    """The `lscpu` model name and core count of this machine."""
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return f"{fields.get('Model name', 'unknown').strip()}, {fields.get('CPU(s)', '?').strip()} logical CPUs"


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _predictor(model_path: str):
    """(Predictor, load seconds, name) of a run folder, or of an untrained model from a config name or path."""
    from spinedet.data.dataset import DISC_CLASS, DISEASE_CLASSES
    from spinedet.infer.predictor import Predictor
    from spinedet.model.build import build_model
    from spinedet.model.precision import prepare_model
    from spinedet.train.config import load_config

    start = time.perf_counter()
    if (Path(model_path) / "model.json").is_file():
        return Predictor.from_run(model_path), time.perf_counter() - start, Path(model_path).name
    config = load_config(model_path)
    classes = list(DISEASE_CLASSES) + [DISC_CLASS]
    torch.manual_seed(0)
    model = build_model(config, classes, "lumbar", "sagittal").eval()
    torch.nn.init.constant_(model.finder.heads["heatmap"].bias, 2.0)
    meta = {"config": config, "classes": classes, "view": "sagittal", "region": "lumbar"}
    predictor = Predictor(prepare_model(model, config, torch.device("cpu")), meta)
    return predictor, time.perf_counter() - start, f"{config.get('name', model_path)} (untrained)"


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def measure(model_path: str, scan_path: Path, region: str, repeats: int) -> dict:
    """Median seconds of predict (finder + naming + judge), of the finder and the judge apart; FLOPs; peak RSS."""
    from torch.utils.flop_counter import FlopCounterMode

    from spinedet.infer.level_predictor import find_discs, judge_discs
    from spinedet.io.load import load_scan
    from spinedet.model.precision import autocast, uses_bf16

    start = time.perf_counter()
    scan = load_scan(scan_path, region=region)
    load_scan_s = time.perf_counter() - start
    predictor, load_model_s, name = _predictor(model_path)
    model, meta = predictor.model, predictor.meta
    device = next(model.parameters()).device

    def stages() -> tuple[float, float, int]:
        with torch.no_grad(), autocast(meta["config"], device):
            t0 = time.perf_counter()
            discs = find_discs(model, meta, scan, region)
            t1 = time.perf_counter()
            judge_discs(model, meta, scan, region, discs)
            return t1 - t0, time.perf_counter() - t1, len(discs)

    predictor.predict(scan, region)  # warm-up (allocator, oneDNN primitives)
    totals = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predictor.predict(scan, region)
        totals.append(time.perf_counter() - t0)
    split = [stages() for _ in range(repeats)]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        with autocast(meta["config"], device):
            discs = find_discs(model, meta, scan, region)
            judge_discs(model, meta, scan, region, discs)
    return {"model": name, "scan": scan_path.name, "scan_shape": list(scan.array.shape), "region": region,
            "threads": torch.get_num_threads(), "bf16": uses_bf16(meta["config"], device),
            "params_m": sum(p.numel() for p in model.parameters()) / 1e6, "gflop_per_scan": counter.get_total_flops() / 1e9,
            "discs": split[0][2], "predict_s": _median(totals), "finder_s": _median([s[0] for s in split]),
            "judge_s": _median([s[1] for s in split]), "load_model_s": load_model_s, "load_scan_s": load_scan_s,
            "peak_rss_mib": peak_rss_mib(), "repeats": repeats}


def markdown(results: list[dict], machine: str) -> str:
    lines = [f"Machine: {machine}; torch {torch.__version__}.", "",
             "| model | scan | threads | bf16 | params (M) | GFLOP/scan | discs judged | predict s | finder s | judge s "
             "| load model s | load scan s | peak RSS MiB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['model']} | {r['scan']} | {r['threads']} | {r['bf16']} | {r['params_m']:.1f} "
                     f"| {r['gflop_per_scan']:.1f} | {r['discs']} | {r['predict_s']:.3f} | {r['finder_s']:.3f} "
                     f"| {r['judge_s']:.3f} | {r['load_model_s']:.2f} | {r['load_scan_s']:.2f} | {r['peak_rss_mib']:.0f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="*", default=[], help="trained run folders")
    parser.add_argument("--configs", nargs="*", default=None, help="configs to time untrained (default: small)")
    parser.add_argument("--scan", type=Path, default=DEFAULT_SCAN)
    parser.add_argument("--region", default="lumbar", choices=("lumbar", "cervical"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="CPU threads (torch)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one model, print JSON
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not args.scan.is_file():
        parser.error(f"{args.scan}: no such scan")
    if args.one:
        print(json.dumps(measure(args.one, args.scan, args.region, args.repeats)))
        return 0
    configs = args.configs if args.configs is not None else ([] if args.runs else ["small"])
    results = []
    for model_path in [*args.runs, *configs]:
        command = [sys.executable, __file__, "--one", model_path, "--scan", str(args.scan), "--region", args.region,
                   "--repeats", str(args.repeats), "--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{model_path}: measurement failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    print(markdown(results, cpu_model()))
    if args.json:
        args.json.write_text(json.dumps({"machine": cpu_model(), "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
