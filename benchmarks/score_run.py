"""A trained run scored as the study scores it: threshold chosen on one set, metrics on another.

    python benchmarks/score_run.py RUN --view sagittal --test out/study/sets/cervical-test.json \
        --threshold-set out/study/sets/cervical-val.json

Prints F1, precision, recall, CPM, the level accuracy of matched findings and, per graded class, the quadratic kappa
and the kappa among found findings (spinedet.study.evaluation.evaluate_role, no bootstrap). For comparing a run
trained outside the study with the study's own models. Research software, not a medical device.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spinedet.data.dataset import read_json
from spinedet.study.evaluation import evaluate_role
from spinedet.study.predict import predict_set

SHOWN = ("f1", "precision", "recall", "cpm", "level_accuracy")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path)
    p.add_argument("--view", choices=("sagittal", "axial"), required=True)
    p.add_argument("--test", type=Path, required=True)
    p.add_argument("--threshold-set", type=Path, required=True)
    args = p.parse_args()
    result = evaluate_role(read_json(args.test), predict_set(args.run, args.test, args.view),
                           read_json(args.threshold_set), predict_set(args.run, args.threshold_set, args.view),
                           view=args.view, bootstrap=0, seed=0)[0]
    shown = {k: round(result[k], 3) if result.get(k) is not None else None for k in SHOWN}
    grades = (result.get("grades") or {}).items()
    kappa = {c: round(g["kappa"], 3) for c, g in grades if g.get("kappa") is not None}
    found = {c: (round(g["kappa_found"], 3), g["n_found"]) for c, g in grades if g.get("kappa_found") is not None}
    print(f"{args.run} {args.view} on {args.test.stem}: {shown}; kappa {kappa}; among found (levels) {found}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
