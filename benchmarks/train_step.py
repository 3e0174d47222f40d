"""Seconds per training step of a level-design config, split into batch making, forward, backward and update.

Runs on the lumbar sagittal (or --view axial) training scans of a dataset (default: the synthetic tiny cohort,
rendered into a temporary folder), batch size from the config.
Usage: .venv/bin/python benchmarks/train_step.py [--config small] [--dataset dataset.json] [--view sagittal]
       [--region lumbar] [--steps 6] [--set section.key=JSON ...]
Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from spinedet.data.dataset import DISC_CLASS, DISEASE_CLASSES, read_json
from spinedet.model.build import build_model
from spinedet.model.precision import autocast, prepare_model, uses_bf16
from spinedet.train.config import load_config
from spinedet.train.level_task import LevelTask


def _override(config: dict, assignment: str) -> None:
    """Set config[a][b]... = value from "a.b...=JSON"."""
    path, value = assignment.split("=", 1)
    *parents, key = path.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[key] = json.loads(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="small")
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--view", default="sagittal", choices=("sagittal", "axial"))
    parser.add_argument("--region", default="lumbar", choices=("lumbar", "cervical"))
    parser.add_argument("--steps", type=int, default=6, help="timed steps after two warm-up steps")
    parser.add_argument("--set", action="append", default=[], help="config override, e.g. judge.base_width=12")
    args = parser.parse_args()
    config = load_config(args.config)
    for assignment in args.set:
        _override(config, assignment)
    if args.dataset is None:
        from spinedet.synth import generate

        args.dataset = generate(Path(tempfile.mkdtemp()) / "data", preset="tiny", seed=0)
    entries = [s for s in read_json(args.dataset)["scans"] if (s["view"], s["region"]) == (args.view, args.region)]
    classes = list(DISEASE_CLASSES) + [DISC_CLASS]
    device = torch.device("cpu")
    torch.manual_seed(0)
    model = prepare_model(build_model(config, classes, args.region, args.view), config, device).train()
    task = LevelTask(config, classes, args.region, args.view)
    items = [task.prepare(args.dataset, e) for e in entries]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    rng = np.random.default_rng(0)
    batch = config["train"]["batch_size"]
    times = {"batch_and_forward": [], "backward": [], "update": []}
    for step in range(args.steps + 2):
        chosen = [items[i] for i in rng.choice(len(items), size=batch, replace=len(items) < batch)]
        t0 = time.perf_counter()
        with autocast(config, device):
            loss, _ = task.loss(model, chosen, rng, device)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        t3 = time.perf_counter()
        if step >= 2:
            for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
                times[key].append(value)
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model_name = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("Model name")), "?")
    median = {k: float(np.median(v)) for k, v in times.items()}
    print(json.dumps({"config": args.config, "overrides": args.set, "view": args.view, "region": args.region,
                      "batch_size": batch, "bf16": uses_bf16(config, device), "threads": torch.get_num_threads(),
                      "cpu": model_name, **{f"{k}_s": round(v, 3) for k, v in median.items()},
                      "step_s": round(sum(median.values()), 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
