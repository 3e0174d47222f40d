"""New synthetic patients for a study's evaluation sets: how far a cell of the study is from what its model does on
many more patients of the same centre. Renders the quick preset's centres with another seed (new patients, same
profiles) and writes one set per centre, named as the study names its sets, for `benchmarks/score_run.py`:

    python benchmarks/fresh_patients.py DIR --seed 7 --patients C1=192 C2=96 C3=96 C5=96 C4=96
    python benchmarks/score_run.py out/study/models/lumbar-axial --view axial --test DIR/sets/internal.json \
        --threshold-set out/study/sets/internal.json --sagittal-run out/study/models/lumbar-sagittal --bootstrap 500

Every patient is a test patient; keep the study's own validation set as --threshold-set so that the threshold is
chosen as the study chose it. Research software, not a medical device.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spinedet.data.dataset import read_json
from spinedet.study.sets import write_subset
from spinedet.synth.cohort import generate

SET_NAMES = {"C1": "internal", "C2": "external1", "C3": "external2", "C5": "external3", "C4": "cervical-test"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, default=7, help="the cohort's seed; the study's is 0 (default 7)")
    p.add_argument("--patients", nargs="+", default=["C1=192", "C2=96", "C3=96", "C5=96", "C4=96"],
                   help="CENTRE=COUNT test patients per centre")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    counts = {centre: int(count) for centre, count in (item.split("=") for item in args.patients)}
    dataset_path = generate(args.out / "data", "quick", seed=args.seed, workers=args.workers, progress=True,
                            patients={centre: {"test": n} for centre, n in counts.items()})
    dataset = read_json(dataset_path)
    for centre in counts:
        name = SET_NAMES.get(centre, centre.lower())
        write_subset(dataset, dataset_path, args.out / "sets" / f"{name}.json", lambda s, c=centre: s["center"] == c)
        print(f"{args.out / 'sets' / name}.json: {counts[centre]} patients of {centre}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
