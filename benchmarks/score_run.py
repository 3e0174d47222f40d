"""A trained run scored as the study scores it: threshold chosen on one set, metrics on another.

    python benchmarks/score_run.py RUN --view sagittal --test out/study/sets/cervical-test.json \
        --threshold-set out/study/sets/cervical-val.json

Prints F1, precision, recall, CPM, the level accuracy of matched findings and, per graded class, the quadratic kappa
and the kappa among found findings (spinedet.study.evaluation.evaluate_role); `--bootstrap N` adds 95% CIs. For
comparing a run trained outside the study with the study's own models. With `--sagittal-run` (an axial run
only), the axial levels are named from that sagittal run's predictions on the same patients, as the study and
`detect` name them, and the axial finder's own level accuracy is printed beside. Research software, not a medical
device.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spinedet.data.dataset import read_json
from spinedet.infer.cross_reference import name_axial_from_sagittal
from spinedet.study.evaluation import evaluate_role, level_accuracy
from spinedet.study.predict import predict_set

SHOWN = ("f1", "precision", "recall", "cpm", "level_accuracy")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path)
    p.add_argument("--view", choices=("sagittal", "axial"), required=True)
    p.add_argument("--test", type=Path, required=True)
    p.add_argument("--threshold-set", type=Path, required=True)
    p.add_argument("--sagittal-run", type=Path, help="name an axial run's levels from this sagittal run's")
    p.add_argument("--bootstrap", type=int, default=0, help="resamples for 95%% CIs of F1 and each kappa (default 0)")
    args = p.parse_args()
    if args.sagittal_run and args.view != "axial":
        p.error("--sagittal-run names the levels of an axial run")
    predictions = alone = predict_set(args.run, args.test, args.view)
    if args.sagittal_run:
        sagittal = predict_set(args.sagittal_run, args.test, "sagittal")
        predictions = {**alone, "scans": name_axial_from_sagittal(alone["scans"], sagittal["scans"])}
    truth = read_json(args.test)
    result = evaluate_role(truth, predictions, read_json(args.threshold_set),
                           predict_set(args.run, args.threshold_set, args.view), view=args.view,
                           bootstrap=args.bootstrap, seed=0)[0]
    shown = {k: round(result[k], 3) if result.get(k) is not None else None for k in SHOWN}
    if args.sagittal_run:
        own = level_accuracy(truth, alone, view=args.view, threshold=result["threshold"])
        shown["level_accuracy_axial_alone"] = None if own is None else round(own, 3)
    grades = (result.get("grades") or {}).items()
    kappa = {c: round(g["kappa"], 3) for c, g in grades if g.get("kappa") is not None}
    found = {c: (round(g["kappa_found"], 3), g["n_found"]) for c, g in grades if g.get("kappa_found") is not None}
    print(f"{args.run} {args.view} on {args.test.stem}: {shown}; kappa {kappa}; among found (levels) {found}")
    if args.bootstrap:
        cis = {"f1": result["f1_ci"], **{c: g.get("kappa_ci") for c, g in grades}}
        print("95% CI: " + ", ".join(f"{k} [{ci[0]:.3f}, {ci[1]:.3f}]" for k, ci in cis.items() if ci))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
