"""Training scans: preprocessed once (cached on disk as .npy + JSON), with their boxes in resampled voxels."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spinedet import __version__
from spinedet.atomic import atomic_path, write_json
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


def _cache_key(path: Path, spacing_mm) -> str:
    stat = path.stat()
    text = json.dumps([str(path.resolve()), stat.st_mtime_ns, stat.st_size, list(map(float, spacing_mm)), __version__])
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def resampled_scan(path: Path, view: str, region: str, spacing_mm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(resampled normalised array, factor per axis, scan affine), from the disk cache when present."""
    folder = cache_dir()
    key = _cache_key(path, spacing_mm)
    npy, meta_path = folder / f"{key}.npy", folder / f"{key}.json"
    if npy.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return np.load(npy, allow_pickle=False), np.array(meta["factor"]), np.array(meta["affine"])
    scan = load_scan(path, view=view, region=region)
    array, factor = resample(scan.array, scan.spacing_mm, spacing_mm)
    array = normalise(array)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(npy) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array, allow_pickle=False)
    write_json(meta_path, {"factor": factor.tolist(), "affine": scan.affine.tolist(), "source": str(path)})
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
