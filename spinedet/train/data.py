"""Training scans: preprocessed once (cached on disk, one .npz per source and spacing), with their boxes in resampled
voxels."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spinedet import __version__
from spinedet.atomic import atomic_path
from spinedet.data.dataset import DISC_CLASS, image_path
from spinedet.data.preprocess import normalise, resample
from spinedet.io import geometry
from spinedet.io.load import load_scan


@dataclass
class TrainingScan:
    """A resampled, normalised volume and its targets as corner boxes in that volume's voxels."""

    scan_id: str
    array: np.ndarray  # float32, at the model spacing, whole field of view
    boxes_voxel: np.ndarray  # (N, 6)
    labels: np.ndarray  # (N,) indices into the run's classes


def cache_dir() -> Path:
    return Path(os.environ.get("SPINEDET_CACHE", Path.home() / ".cache" / "spinedet" / "preprocessed"))


def _size_and_mtime(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def source_identity(path: Path) -> list:
    """What identifies a scan source's contents: size and mtime (ns) of the file, or of every file under a folder
    (DICOM), with its name; an in-place edit of any file changes it, though not the folder's own mtime."""
    path = path.resolve()
    if not path.exists():
        return []  # nothing cached under it; load_scan then says the source is missing
    if not path.is_dir():
        return _size_and_mtime(path)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return [[p.relative_to(path).as_posix(), *_size_and_mtime(p)] for p in files]


def cache_entry(path: Path, view: str, region: str, spacing_mm) -> Path:
    """The cache file of a source resampled to `spacing_mm` (mm per canonical axis), keyed on its contents' identity."""
    text = json.dumps([str(path.resolve()), source_identity(path), view, region, list(map(float, spacing_mm)),
                       __version__])
    return cache_dir() / f"{hashlib.sha1(text.encode()).hexdigest()[:24]}.npz"


def read_entry(entry: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(array, factor, affine) of a cache file, None when it is absent or unreadable (then it is rebuilt)."""
    try:
        with np.load(entry, allow_pickle=False) as stored:
            return stored["array"], stored["factor"], stored["affine"]
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def write_entry(entry: Path, array: np.ndarray, factor: np.ndarray, affine: np.ndarray) -> None:
    """One file, written beside its final name and renamed over it, so a reader sees all of it or none."""
    with atomic_path(entry) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, array=array, factor=factor, affine=affine)


def resampled_scan(path: Path, view: str, region: str, spacing_mm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(resampled normalised array, factor per axis, scan affine), from the disk cache when present."""
    entry = cache_entry(path, view, region, spacing_mm)
    cached = read_entry(entry)
    if cached is not None:
        return cached
    scan = load_scan(path, view=view, region=region)
    array, factor = resample(scan.array, scan.spacing_mm, spacing_mm)
    array = normalise(array)
    write_entry(entry, array, np.asarray(factor, float), scan.affine)
    return array, factor, scan.affine


def load_training_scan(dataset_path: Path, entry: dict, classes: list[str], spacing_mm) -> TrainingScan:
    """Preprocess one dataset entry; its findings and discs become boxes in the resampled voxel grid."""
    array, factor, affine = resampled_scan(image_path(dataset_path, entry), entry["view"], entry["region"], spacing_mm)
    boxes, labels = [], []
    for item, name in [(f, f["class"]) for f in entry.get("findings", [])] + [(d, DISC_CLASS) for d in entry.get("discs", [])]:
        if name not in classes:
            continue
        scan_box = geometry.box_world_to_voxel(np.array(item["box_lps"], float), affine)
        boxes.append(np.concatenate([(scan_box[:3] + 0.5) / factor - 0.5, (scan_box[3:] + 0.5) / factor - 0.5]))
        labels.append(classes.index(name))
    return TrainingScan(entry["id"], array, np.array(boxes, float).reshape(-1, 6), np.array(labels, int))
