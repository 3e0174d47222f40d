"""Learning curves of the level design against the DETR head: validation F1 and CPM against training steps and wall
seconds, same data, same machine, one run.

    python benchmarks/learning_curve.py DATASET --out DIR [--view sagittal] [--region lumbar]
        [--configs small detr-small] [--steps 360] [--eval-every 60]

Each config is trained with `spinedet train`'s own code (the loop validates on the dataset's `val` scans about every
--eval-every steps); the curves come from each run's metrics.csv. Writes DIR/curve.json, DIR/curve.md and
DIR/curve.png. Validation F1 is at the F1-maximising threshold of those same scans (optimistic, equally for both).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import time
from pathlib import Path

from spinedet.data.dataset import load_dataset
from spinedet.train.config import load_config
from spinedet.train.loop import TrainRequest, train


def curve_of(run_dir: Path) -> list[dict]:
    """The validated rows of a run's metrics.csv: step, wall seconds, F1, CPM, level accuracy."""
    rows = []
    for row in csv.DictReader(open(run_dir / "metrics.csv")):
        if row.get("val_f1"):
            rows.append({"step": int(row["step"]), "wall_s": float(row["wall_s"]), "f1": float(row["val_f1"]),
                         "cpm": float(row["val_cpm"]),
                         **{k: float(row[f"val_{k}"]) if row.get(f"val_{k}") else None
                            for k in ("level_accuracy", "disc_recall", "disc_level_accuracy")}})
    return rows


def plot(curves: dict[str, list[dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, rows in curves.items():
        for ax, metric, style in ((axes[0], "f1", "-"), (axes[0], "cpm", "--"), (axes[1], "f1", "-"),
                                  (axes[1], "cpm", "--")):
            x = [r["step"] for r in rows] if ax is axes[0] else [r["wall_s"] for r in rows]
            ax.plot(x, [r[metric] for r in rows], style, marker="o", ms=3, label=f"{name} {metric.upper()}")
    axes[0].set_xlabel("training steps")
    axes[1].set_xlabel("training wall seconds")
    for ax in axes:
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.set_ylabel("validation")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--view", default="sagittal")
    p.add_argument("--region", default="lumbar")
    p.add_argument("--configs", nargs="+", default=["small", "detr-small"])
    p.add_argument("--steps", type=int, help="about this many training steps per config (its epochs are set to fit; "
                   "default: each config's own epochs)")
    p.add_argument("--eval-every", type=int, default=50, help="about this many steps between validations")
    args = p.parse_args()
    data = load_dataset(args.dataset)
    n_train = sum(1 for s in data["scans"] if (s["view"], s["region"], s.get("split")) == (args.view, args.region, "train"))
    curves, summary = {}, {}
    for name in args.configs:
        config = load_config(name)
        steps_per_epoch = max(1, -(-n_train // config["train"]["batch_size"]))
        config["train"]["val_every"] = max(1, round(args.eval_every / steps_per_epoch))
        if args.steps:
            config["train"]["epochs"] = max(1, round(args.steps / steps_per_epoch))
        run_dir = args.out / f"run-{Path(name).stem}"
        start = time.perf_counter()
        meta = train(TrainRequest(dataset=args.dataset, view=args.view, region=args.region, config=config,
                                  out=run_dir, quiet=True))
        curves[name] = curve_of(run_dir)
        summary[name] = {"total_s": round(time.perf_counter() - start, 1), "best": meta.get("validation")}
        print(f"{name}: " + ", ".join(f"step {r['step']} ({r['wall_s']:.0f} s) F1 {r['f1']:.3f} CPM {r['cpm']:.3f}"
                                      for r in curves[name]), flush=True)
    result = {"dataset": str(args.dataset), "view": args.view, "region": args.region, "n_train_scans": n_train,
              "machine": f"{platform.machine()} {platform.node()}", "date": time.strftime("%Y-%m-%d %H:%M"),
              "curves": curves, "summary": summary}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "curve.json").write_text(json.dumps(result, indent=2) + "\n")
    fmt = lambda v: "" if v is None else f"{v:.2f}"  # noqa: E731
    lines = ["| config | step | wall s | val F1 | val CPM | level accuracy of findings | disc recall | discs named right |",
             "|---|---|---|---|---|---|---|---|"]
    for name, rows in curves.items():
        lines += [f"| {name} | {r['step']} | {r['wall_s']:.0f} | {r['f1']:.3f} | {r['cpm']:.3f} | "
                  f"{fmt(r['level_accuracy'])} | {fmt(r['disc_recall'])} | {fmt(r['disc_level_accuracy'])} |"
                  for r in rows]
    (args.out / "curve.md").write_text("\n".join(lines) + "\n")
    plot(curves, args.out / "curve.png")
    print(f"wrote {args.out / 'curve.md'} and curve.png")


if __name__ == "__main__":
    main()
