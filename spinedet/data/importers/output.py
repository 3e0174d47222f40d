"""Shared steps of every importer: patient splits, image references or copies, and the atomic dataset write."""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from pathlib import Path

from spinedet.atomic import atomic_path, remove_partials
from spinedet.data.dataset import new_dataset, validate, write_dataset
from spinedet.errors import InputError, SpinedetError

DATASET_NAME = "dataset.json"


def check_output(out_dir: Path, overwrite: bool) -> Path:
    """The dataset.json path inside `out_dir`, refusing an existing one unless `overwrite`; temporary files that a
    killed import left there are removed."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SpinedetError(f"{out_dir}: exists and is not a folder")
    remove_partials(out_dir)
    target = out_dir / DATASET_NAME
    if target.exists() and not overwrite:
        raise SpinedetError(f"{target}: exists already (pass --overwrite to replace it)")
    return target


def check_source(src: Path) -> Path:
    """The source folder, or an InputError when it is missing entirely."""
    src = Path(src)
    if not src.exists():
        raise InputError(src, "does not exist")
    if not src.is_dir():
        raise InputError(src, "is not a folder (expected the dataset's top folder)")
    return src


def check_fraction(val_fraction: float) -> float:
    """The validation fraction, refused outside [0, 1)."""
    if not 0.0 <= val_fraction < 1.0:
        raise SpinedetError(f"--val-fraction {val_fraction}: must be in [0, 1)")
    return val_fraction


def split_of_patients(patients, val_fraction: float) -> dict[str, str]:
    """Deterministic patient -> 'train'/'val': fraction * n (rounded half up) patients, first by SHA-256 of id, are val."""
    check_fraction(val_fraction)
    ordered = sorted(set(patients), key=lambda p: hashlib.sha256(p.encode("utf-8")).hexdigest())
    n_val = math.floor(val_fraction * len(ordered) + 0.5)
    return {p: ("val" if n < n_val else "train") for n, p in enumerate(ordered)}


def relative_reference(path: Path, out_dir: Path) -> str:
    """`path` relative to the output folder, with forward slashes, as dataset.json stores images."""
    return Path(os.path.relpath(Path(path).resolve(), Path(out_dir).resolve())).as_posix()


def copy_file(src: Path, dst: Path, overwrite: bool) -> None:
    """Copy one file atomically."""
    with atomic_path(dst, overwrite) as tmp:
        shutil.copyfile(src, tmp)


def write_imported(scans: list[dict], classes, target: Path, val_fraction: float, overwrite: bool) -> dict:
    """Assign splits, validate, and write the dataset atomically; an import of nothing is an error."""
    if not scans:
        raise SpinedetError("no scan could be imported (see the problems above); nothing written")
    splits = split_of_patients([s["patient"] for s in scans], val_fraction)
    for scan in scans:
        scan["split"] = splits[scan["patient"]]
    data = new_dataset(classes)
    data["scans"] = sorted(scans, key=lambda s: s["id"])
    target.parent.mkdir(parents=True, exist_ok=True)
    problems = validate(data, target.parent)
    if problems:
        raise SpinedetError(f"import produced an invalid dataset (a bug): {problems[0]}")
    write_dataset(target, data, overwrite)
    return data
