"""`spinedet validate DATASET`: summarise a dataset.json and list every problem."""

from __future__ import annotations

from pathlib import Path

from spinedet.data import dataset


def register(subparsers) -> None:
    p = subparsers.add_parser("validate", help="check a dataset.json and summarise it")
    p.add_argument("dataset", type=Path)
    p.set_defaults(func=run)


def run(args) -> int:
    data = dataset.read_json(args.dataset)
    problems = dataset.validate(data, args.dataset.parent)
    if not problems:
        for key, value in dataset.summary(data).items():
            print(f"{key:>18}  {value}")
        print(f"{args.dataset}: valid")
        return 0
    for problem in problems:
        print(f"{args.dataset}: {problem}")
    print(f"{args.dataset}: {len(problems)} problem(s)")
    return 2
