"""The study's datasets: subsets of one dataset.json by centre, view and split, written beside it."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Callable

from spinedet.data.dataset import write_dataset
from spinedet.errors import InputError


def write_subset(dataset: dict, dataset_path: Path, out_path: Path, keep: Callable[[dict], bool],
                 split_of: Callable[[dict], str] | None = None) -> Path:
    """Write the scans of `dataset` for which keep(scan) holds, with image paths made relative to `out_path`.

    `split_of(scan)`, when given, relabels each kept scan's split.
    """
    out_path = Path(out_path)
    source_dir = Path(dataset_path).parent
    scans = []
    for scan in dataset["scans"]:
        if not keep(scan):
            continue
        image = os.path.relpath(source_dir / scan["image"], out_path.parent)
        scans.append({**scan, "image": image, **({"split": split_of(scan)} if split_of else {})})
    if not scans:
        raise InputError(dataset_path, f"no scans for the study set {out_path.stem!r} (check the centre roles "
                                       "--train-center, --external-centers, --cervical-center and the splits)")
    write_dataset(out_path, {**dataset, "scans": scans})
    return out_path


def validation_patients(patients: list[str], fraction: float, seed: int) -> set[str]:
    """A deterministic fraction (at least one) of `patients` held out for validation."""
    ordered = sorted(set(patients))
    random.Random(seed).shuffle(ordered)
    return set(ordered[: max(1, round(fraction * len(ordered)))])
