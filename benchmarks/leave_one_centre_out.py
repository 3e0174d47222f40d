"""Leave-one-centre-out (issue 11): lumbar models of one view trained on C1 and on C2+C3, each with and without
domain randomisation, at the same budget, scored on every lumbar centre they did not train on.

    python benchmarks/leave_one_centre_out.py out/study --view sagittal --out out/loco

C1 training: the study's lumbar training set (240 + 32 validation patients); the run without randomisation is the
study's own model (`--c1-run`, default STUDY/models/lumbar-VIEW). C2+C3 training: 120 + 16 patients of each centre,
drawn with seed 1 so that none is one of the study's C2 and C3 test patients (seed 0). Thresholds come from each
training set's own validation patients. Scores: F1 and CPM on C1 validation (internal), C2, C3 and C5 (the study's
sets). The randomisation (RANDOMISE) is the one docs/benchmarks.md measured first. Runs are reused when present.
About 50 min for the sagittal view on the 2-core machine. Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spinedet.data.dataset import load_dataset, read_json
from spinedet.study.evaluation import evaluate_role
from spinedet.study.predict import predict_set
from spinedet.study.schedule import Job, run_jobs
from spinedet.study.sets import write_subset
from spinedet.synth import generate
from spinedet.train.config import load_config
from spinedet.train.loop import TrainRequest, train

RANDOMISE = {"remap": {"p": 0.5, "control_points": [4, 8]}, "resolution": {"p": 0.3, "factor": [1.5, 3.0]},
             "gibbs": {"p": 0.2, "alpha": [0.2, 0.5]}, "ghosting": {"p": 0.2, "ghosts": [2, 4], "intensity": [0.1, 0.3]},
             "rician": {"p": 0.3, "std": [0.01, 0.06]}}
SCORED = {"C1": "internal", "C2": "external1", "C3": "external2", "C5": "external3"}


def _c23_sets(out: Path) -> tuple[Path, Path]:
    """The C2+C3 training set (train and val splits) and its validation part, synthesised once."""
    train_set, val_set = out / "sets" / "c23-train.json", out / "sets" / "c23-val.json"
    if not train_set.exists():
        patients = {"C2": {"train": 120, "val": 16}, "C3": {"train": 120, "val": 16}}
        dataset = generate(out / "data", preset="quick", seed=1, workers=2, overwrite=True, patients=patients)
        data = load_dataset(dataset)
        write_subset(data, dataset, val_set, lambda s: s["split"] == "val")
        write_subset(data, dataset, train_set, lambda s: True)
    return train_set, val_set


def _train(train_set: Path, view: str, config: dict, run: Path) -> None:
    if not (run / "model.json").exists():
        train(TrainRequest(dataset=train_set, view=view, region="lumbar", config=config, out=run, seed=0))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("study", type=Path, help="a finished quick study (its sets/ and models/)")
    p.add_argument("--view", choices=("sagittal", "axial"), required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--c1-run", type=Path, help="the C1 run without randomisation (default: the study's)")
    p.add_argument("--config", default="small")
    args = p.parse_args()
    sets = args.study / "sets"
    c23_train, c23_val = _c23_sets(args.out)
    plain = load_config(args.config)
    randomised = {**plain, "train": {**plain["train"], "randomise": RANDOMISE}}
    runs = {  # name -> (training set, threshold set, config, trained on)
        "C1": (sets / "lumbar-train.json", sets / "internal.json", None, {"C1"}),
        "C1 randomised": (sets / "lumbar-train.json", sets / "internal.json", randomised, {"C1"}),
        "C2+C3": (c23_train, c23_val, plain, {"C2", "C3"}),
        "C2+C3 randomised": (c23_train, c23_val, randomised, {"C2", "C3"}),
    }
    folders = {name: args.out / "runs" / f"{name.replace(' ', '-').replace('+', '')}-{args.view}" for name in runs}
    folders["C1"] = args.c1_run or args.study / "models" / f"lumbar-{args.view}"
    run_jobs([Job(name, _train, (train_set, args.view, config, folders[name]))
              for name, (train_set, _, config, _) in runs.items() if config is not None], workers=2)
    table = {}
    for name, (_, threshold_set, _, trained_on) in runs.items():
        threshold_predictions = predict_set(folders[name], threshold_set, args.view)
        table[name] = {}
        for centre, set_name in SCORED.items():
            test = sets / f"{set_name}.json"
            if centre in trained_on and set_name != "internal":
                continue
            result = evaluate_role(read_json(test), predict_set(folders[name], test, args.view), read_json(threshold_set),
                                   threshold_predictions, view=args.view, bootstrap=0, seed=0)[0]
            table[name][centre] = {k: round(result[k], 3) for k in ("f1", "cpm")}
    (args.out / f"loco-{args.view}.json").write_text(json.dumps(table, indent=1))
    print(f"| trained on ({args.view}) | " + " | ".join(f"{c} F1 (CPM)" for c in SCORED) + " |")
    print("|---|" + "---|" * len(SCORED))
    for name, cells in table.items():
        print(f"| {name} | " + " | ".join(f"{cells[c]['f1']:.3f} ({cells[c]['cpm']:.3f})" if c in cells else "trained on"
                                          for c in SCORED) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
