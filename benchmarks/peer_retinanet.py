"""spinedet beside MONAI's 3D RetinaNet (MONAI 1.6.1, monai.apps.detection) on one study's lumbar data.

    python benchmarks/peer_retinanet.py STUDY_DIR --out DIR [--views sagittal axial] [--budget-factor 1 4]

RetinaNet is trained on the study's own C1 training scans (sets/lumbar-train.json, split "train") of each view for
the wall-clock time spinedet's lumbar training of that view took in the study (stages/train-lumbar-VIEW.json)
times each budget factor, gets its score threshold on C1 validation (sets/internal.json) as the study does (the
F1-maximising one), and both detectors are scored on internal, external I and external II with spinedet.eval
(class-agnostic disease boxes, IoU >= 0.1). spinedet's figures come from the study's own predictions; its models
are only run again to time inference. Every job (a training, a detector's inference over a view's sets) runs in
its own process, whose peak RSS is reported; finished jobs under DIR/jobs are reused, so views and budgets can be
added to one DIR. Writes DIR/peer.json and DIR/peer.md. MONAI configuration: benchmarks/peer/retina.py, data.py.
Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer import jobs  # noqa: E402

from spinedet.atomic import write_json, write_text  # noqa: E402
from spinedet.data.dataset import read_json  # noqa: E402
from spinedet.study.evaluation import evaluate_role  # noqa: E402

DATASETS = ("internal", "external1", "external2")
THRESHOLD_SET = "internal"  # C1 validation, as the study chooses its lumbar thresholds
MONAI_VERSION = "1.6.1"


def budgets(study: Path, views) -> dict[str, float]:
    """Wall seconds of spinedet's lumbar training per view, from the study's stage records."""
    return {v: float(read_json(study / "stages" / f"train-lumbar-{v}.json")["wall_s"]) for v in views}


def _job(path: Path, function, *args) -> dict:
    """A job's record, reused when its file exists."""
    if path.exists():
        return json.loads(path.read_text())
    record = jobs.in_subprocess(function, *args)
    write_json(path, record)
    return record


def _metrics(study: Path, preds: Path, view: str) -> dict[str, dict]:
    """evaluate_role per dataset: the threshold from the internal set's predictions, no bootstrap."""
    threshold_truth, threshold_preds = read_json(study / "sets" / f"{THRESHOLD_SET}.json"), read_json(preds / f"{THRESHOLD_SET}.json")
    return {name: evaluate_role(read_json(study / "sets" / f"{name}.json"), read_json(preds / f"{name}.json"),
                                threshold_truth, threshold_preds, view=view, bootstrap=0, seed=0)[0]
            for name in DATASETS}


def _spinedet_predictions(study: Path, view: str, out: Path) -> Path:
    """The study's own predictions of its lumbar model, gathered under out/ as {set}.json."""
    out.mkdir(parents=True, exist_ok=True)
    for name in DATASETS:
        source = study / "predictions" / f"lumbar-{view}--{name}.json"
        (out / f"{name}.json").write_text(source.read_text())
    return out


def _rows(detector: str, factor: float, view: str, metrics: dict, train_s: float, infer: dict, extra: dict) -> list:
    return [{"detector": detector, "budget_factor": factor, "dataset": name, "view": view,
             **{k: metrics[name][k] for k in ("f1", "cpm", "ap", "precision", "recall", "threshold", "n_scans")},
             "train_s": round(train_s, 1), "infer_s_per_scan": infer["infer_s_per_scan"][name],
             "peak_rss_mb": round(infer["peak_rss_mb"], 1), **extra} for name in DATASETS]


def run(study: Path, out: Path, views, factors, options: dict, reuse_only: bool = False) -> dict:
    """Every (view, budget factor) RetinaNet job and spinedet's timing per view (RetinaNet first, so that parallel
    invocations for one view's budgets share one spinedet timing); with reuse_only, only finished jobs count."""
    budget = budgets(study, views)
    sets = {name: str(study / "sets" / f"{name}.json") for name in DATASETS}
    rows, missing = [], []
    for view in views:
        for factor in factors:
            name = f"retinanet-{view}-x{factor:g}"
            train_path, infer_path = out / "jobs" / f"{name}-train.json", out / "jobs" / f"{name}-infer.json"
            if reuse_only and not infer_path.exists():
                missing.append(name)
                continue
            trained = _job(train_path, jobs.train_retinanet, str(study / "sets" / "lumbar-train.json"), view,
                           budget[view] * factor, str(out / "models" / name), options)
            preds = out / "predictions" / name
            infer = _job(infer_path, jobs.predict_sets, "retinanet", str(out / "models" / name), sets, view, str(preds))
            rows += _rows("retinanet", factor, view, _metrics(study, preds, view), trained["train_s"], infer,
                          {"steps": trained["steps"], "train_peak_rss_mb": round(trained["peak_rss_mb"], 1)})
        timing = _job(out / "jobs" / f"spinedet-{view}-infer.json", jobs.predict_sets, "spinedet",
                      str(study / "models" / f"lumbar-{view}"), sets, view, str(out / "timing" / f"spinedet-{view}"))
        preds = _spinedet_predictions(study, view, out / "predictions" / f"spinedet-{view}")
        rows[:0] = _rows("spinedet", 1, view, _metrics(study, preds, view), budget[view], timing, {})
    order = {"spinedet": 0, "retinanet": 1}
    rows.sort(key=lambda r: (views.index(r["view"]), order[r["detector"]], r["budget_factor"], DATASETS.index(r["dataset"])))
    result = {"budget_s": budget, "budget_factors": list(factors), "monai": MONAI_VERSION, "retinanet": options,
              "rows": rows, "not_run": missing}
    write_json(out / "peer.json", result)
    write_text(out / "peer.md", markdown(result))
    return result


def markdown(result: dict) -> str:
    head = ("| detector | budget | view | dataset | F1 | CPM | AP | train s | steps | infer s/scan | peak RSS MiB |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = [f"| {r['detector']} | {r['budget_factor']:g}x | {r['view']} | {r['dataset']} | {r['f1']:.3f} | "
             f"{r['cpm']:.3f} | {r['ap']:.3f} | {r['train_s']:.0f} | {r.get('steps', '-')} | "
             f"{r['infer_s_per_scan']:.2f} | {r['peak_rss_mb']:.0f} |" for r in result["rows"]]
    budget = ", ".join(f"{v} {s:.0f} s" for v, s in result["budget_s"].items())
    return (f"spinedet against MONAI {result['monai']} RetinaNet; budget per view (spinedet's training): {budget}.\n"
            "Research software, not a medical device.\n\n" + head + "\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--views", nargs="+", default=["sagittal", "axial"], choices=["sagittal", "axial"])
    parser.add_argument("--budget-factor", nargs="+", type=float, default=[1.0])
    parser.add_argument("--backbone", default="resnet18", choices=["resnet18", "resnet50"])
    parser.add_argument("--widen", type=float, default=0.5, help="ResNet width factor (1.0: MONAI's 64..512)")
    parser.add_argument("--fpn-channels", type=int, default=32, help="256: the tutorial's resnet_fpn_feature_extractor")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--reuse-only", action="store_true", help="only gather finished jobs into peer.json")
    args = parser.parse_args(argv)
    options = {"backbone": args.backbone, "widen": args.widen, "fpn_channels": args.fpn_channels,
               "batch_size": args.batch_size, "seed": 0}
    result = run(args.study, args.out, args.views, args.budget_factor, options, args.reuse_only)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
