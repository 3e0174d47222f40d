"""`spinedet evaluate TRUTH PREDICTIONS --out DIR`: fROC, PR, precision/recall/F1 with bootstrap CIs."""

from __future__ import annotations

import sys
from pathlib import Path

from spinedet.atomic import require_empty_dir, write_json, write_text
from spinedet.data.dataset import load_dataset
from spinedet.errors import InputError, SpinedetError
from spinedet.eval import best_f1_threshold
from spinedet.eval.definitions import definitions_text
from spinedet.eval.groups import GROUP_KEYS, evaluate_groups
from spinedet.eval.report import report_markdown


def register(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="fROC, PR, precision/recall/F1 of predictions against truth")
    p.add_argument("truth", type=Path, help="ground truth dataset.json")
    p.add_argument("predictions", type=Path, help="predictions dataset.json (findings carry 'score')")
    p.add_argument("--out", type=Path, required=True, help="folder for metrics.json, report.md, froc.png, pr.png")
    hit = p.add_mutually_exclusive_group()
    hit.add_argument("--iou", type=float, default=0.1, help="hit when 3D IoU >= this (default 0.1)")
    hit.add_argument("--center", action="store_true", help="hit when the predicted centre lies inside the truth box")
    thr = p.add_mutually_exclusive_group()
    thr.add_argument("--threshold", type=float, help="score threshold for precision, recall and F1")
    thr.add_argument("--threshold-from", nargs=2, type=Path, metavar=("VAL_PREDICTIONS", "VAL_TRUTH"),
                     help="use the F1-maximising threshold of this validation set (default: of these data)")
    p.add_argument("--by", default="", help=f"group by a comma-separated subset of {','.join(GROUP_KEYS)}")
    p.add_argument("--bootstrap", type=int, default=1000, help="resamples of patients for 95%% CIs (0: none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="write into a non-empty --out folder")
    p.set_defaults(func=run)


def _predictions(path: Path) -> dict:
    data = load_dataset(path, check_images=False)
    for scan in data["scans"]:
        for n, f in enumerate(scan.get("findings", [])):
            if "score" not in f:
                raise InputError(path, f"scan {scan['id']}.findings[{n}]: no 'score' (predictions need one)")
    return data


def _keys(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown or len(set(keys)) != len(keys):
        raise SpinedetError(f"--by {text!r}: use distinct keys among {', '.join(GROUP_KEYS)}")
    return keys


def _coverage_warnings(truth: dict, predictions: dict, what: str) -> list[str]:
    truth_ids = [s["id"] for s in truth["scans"]]
    predicted = {s["id"] for s in predictions["scans"]}
    missing = [i for i in truth_ids if i not in predicted]
    extra = sorted(predicted - set(truth_ids))
    out = []
    if missing:
        out.append(f"{what}: {len(missing)} truth scan(s) without predictions, counted as scans with no detections: "
                   + ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""))
    if extra:
        out.append(f"{what}: {len(extra)} predicted scan(s) not in the truth, ignored: "
                   + ", ".join(extra[:20]) + (" ..." if len(extra) > 20 else ""))
    return out


def run(args) -> int:
    if not 0 < args.iou <= 1:
        raise SpinedetError(f"--iou {args.iou}: must be in (0, 1]")
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise SpinedetError(f"--threshold {args.threshold}: must be in [0, 1]")
    if args.bootstrap < 0:
        raise SpinedetError(f"--bootstrap {args.bootstrap}: must be 0 or more")
    keys = _keys(args.by)
    truth, predictions = load_dataset(args.truth, check_images=False), _predictions(args.predictions)
    classes = list(truth["classes"])
    hit = {"iou_threshold": args.iou, "center_hit": args.center}
    warnings = _coverage_warnings(truth, predictions, "evaluated set")
    if args.threshold is not None:
        threshold, source = args.threshold, "given with --threshold"
    elif args.threshold_from:
        val_predictions, val_truth = _predictions(args.threshold_from[0]), load_dataset(args.threshold_from[1], False)
        warnings += _coverage_warnings(val_truth, val_predictions, "threshold set")
        threshold = best_f1_threshold(val_truth, val_predictions, classes=classes, warn=False, **hit)
        source = f"F1-maximising on {args.threshold_from[0]} against {args.threshold_from[1]}"
    else:
        threshold = best_f1_threshold(truth, predictions, classes=classes, warn=False, **hit)
        source = "F1-maximising on these data, optimistic; --threshold-from takes a validation set's"
    out = require_empty_dir(args.out, args.overwrite)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    groups, curves = evaluate_groups(truth, predictions, keys=keys, classes=classes, threshold=threshold,
                                     bootstrap=args.bootstrap, seed=args.seed, **hit)
    result = {
        "settings": {"truth": str(args.truth), "predictions": str(args.predictions), **hit, "threshold": threshold,
                     "threshold_source": source, "by": keys, "bootstrap": args.bootstrap, "seed": args.seed,
                     "classes": classes},
        "definitions": definitions_text(args.iou, args.center),
        "groups": groups,
        "warnings": warnings,
    }
    from spinedet.eval.plots import plot_froc, plot_pr  # matplotlib: loaded only when plotting

    plot_froc(curves, out / "froc.png")
    plot_pr(curves, out / "pr.png")
    write_json(out / "metrics.json", result)
    write_text(out / "report.md", report_markdown(result))
    m = groups["all"]
    print(f"{m['n_scans']} scans, {m['n_truths']} truths: CPM {m['cpm']:.3f}, AP {m['ap']:.3f}, "
          f"F1 {m['f1']:.3f} at threshold {threshold:.3f}; wrote {out}")
    return 0
