"""`spinedet synth OUT --preset {tiny,quick,paper} --seed S`: render a synthetic multicentre spine MRI cohort."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    from spinedet.synth.cohort import PRESETS

    p = subparsers.add_parser("synth", help="generate a synthetic multicentre T2 spine MRI dataset")
    p.add_argument("out", type=Path, help="output folder (images/ and dataset.json)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1, help="processes; the output does not depend on it")
    p.add_argument("--labels", action="store_true", help="also write anatomy label maps (labels/*.nii.gz)")
    p.add_argument("--overwrite", action="store_true", help="write into a non-empty OUT")
    p.set_defaults(func=run)


def run(args) -> int:
    from spinedet.data.dataset import read_json, summary
    from spinedet.errors import SpinedetError
    from spinedet.synth import generate

    if args.workers < 1:
        raise SpinedetError(f"--workers must be at least 1, got {args.workers}")
    path = generate(args.out, args.preset, args.seed, args.workers, args.overwrite, progress=True, labels=args.labels)
    counts = summary(read_json(path))
    print(f"{path}: {counts['scans']} scans of {counts['patients']} patients, findings {counts['findings_by_class']}")
    return 0
