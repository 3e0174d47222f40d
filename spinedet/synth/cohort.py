"""Presets and cohort generation: patients per centre and split, rendered in parallel, written atomically."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from spinedet.atomic import require_empty_dir
from spinedet.data.dataset import DISEASE_CLASSES, SPLITS, new_dataset, write_dataset
from spinedet.errors import SpinedetError
from spinedet.progress import progress_bar
from spinedet.io.image_file import write_volume
from spinedet.synth.patient import make_patient, render_scan
from spinedet.synth.scanner import CENTRES, coarsened

VERSION = "spinedet-synth/1"
PRESETS = {
    "tiny": {"patients": {"C1": {"train": 3, "val": 2}, "C2": {"test": 2}, "C3": {"test": 2},
                          "C4": {"train": 3, "test": 2}, "C5": {"test": 2}},
             "min_pixel_mm": 2.0, "max_slices": 12, "sub_slices": 2},
    # quick: sized for what the level judge needs on a CPU (docs/model.md: 240 training patients at ~1000 steps reach
    # the ceiling the judge reaches on true discs; 40 overfit), with 96-patient evaluation sets (32 moved a cell's F1 by
    # up to 0.08 between patient samples; docs/benchmarks.md); the cervical centre has the paper's size (60 training
    # patients left cervical transfer at F1 0.88 / 0.89 where 140 reached 0.95)
    "quick": {"patients": {"C1": {"train": 240, "val": 96}, "C2": {"test": 96}, "C3": {"test": 96},
                           "C4": {"train": 140, "test": 60}, "C5": {"test": 96}},
              "min_pixel_mm": 0.9, "max_slices": None, "sub_slices": 3},
    "paper": {"patients": {"C1": {"train": 456, "val": 134}, "C2": {"test": 100}, "C3": {"test": 114},
                           "C4": {"train": 140, "test": 60}, "C5": {"test": 100}},
              "min_pixel_mm": 0.0, "max_slices": None, "sub_slices": 4},
}
VIEW_SUFFIX = {"sagittal": "sag", "axial": "ax"}


def resolve_config(preset: str, overrides: dict) -> dict:
    """The preset's settings with overrides (patients, min_pixel_mm, max_slices, sub_slices, labels)."""
    if preset not in PRESETS:
        raise SpinedetError(f"unknown preset {preset!r} (choose from {', '.join(PRESETS)})")
    config = {**PRESETS[preset], "labels": False}
    unknown = set(overrides) - set(config)
    if unknown:
        raise SpinedetError(f"unknown synth setting(s) {sorted(unknown)} (known: {sorted(config)})")
    config.update(overrides)
    for centre, splits in config["patients"].items():
        if centre not in CENTRES:
            raise SpinedetError(f"unknown centre {centre!r} (known: {', '.join(CENTRES)})")
        for split, count in splits.items():
            if split not in SPLITS or not isinstance(count, int) or count < 0:
                raise SpinedetError(f"patients[{centre!r}]: {split!r}: {count!r} must be a count >= 0 for a split "
                                    f"in {list(SPLITS)}")
    return config


def patient_jobs(config: dict) -> list[tuple[str, int, str]]:
    """(centre, index from 1, split) for every patient, in a fixed order."""
    jobs = []
    for centre in sorted(config["patients"]):
        index = 0
        for split, count in config["patients"][centre].items():
            for _ in range(int(count)):
                index += 1
                jobs.append((centre, index, split))
    return jobs


def patient_rng(seed: int, centre: str, index: int) -> np.random.Generator:
    """A patient's own random stream, from (seed, centre, index) alone."""
    return np.random.default_rng([int(seed), int(centre[1:]), int(index)])


def _render_patient(args) -> list[dict]:
    out_dir, seed, centre, index, split, config = args
    profile = coarsened(CENTRES[centre], config["min_pixel_mm"], config["max_slices"])
    rng = patient_rng(seed, centre, index)
    pid = f"{centre.lower()}-{index:04d}"
    patient = make_patient(pid, profile, rng)
    scans = []
    for view in ("sagittal", "axial"):
        scan = render_scan(patient, view, profile, rng, config["sub_slices"])
        sid = f"{pid}-{VIEW_SUFFIX[view]}"
        write_volume(Path(out_dir) / "images" / f"{sid}.nii.gz", scan.image, scan.affine)
        entry = {"id": sid, "patient": pid, "center": centre, "region": profile.region, "view": view,
                 "image": f"images/{sid}.nii.gz", "split": split, "age": round(patient.age, 1),
                 "findings": scan.findings, "discs": scan.discs}
        if config["labels"]:
            mid = scan.labels[config["sub_slices"] // 2:: config["sub_slices"]]
            write_volume(Path(out_dir) / "labels" / f"{sid}.nii.gz", mid, scan.affine)
            entry["labels"] = f"labels/{sid}.nii.gz"
        scans.append(entry)
    return scans


def generate(out_dir, preset: str = "tiny", seed: int = 0, workers: int = 1, overwrite: bool = False,
             progress: bool = False, **overrides) -> Path:
    """Render a synthetic multicentre cohort into OUT (images/, dataset.json last); returns OUT/dataset.json."""
    config = resolve_config(preset, overrides)
    out = require_empty_dir(out_dir, overwrite)
    jobs = [(str(out), seed, c, i, s, config) for c, i, s in patient_jobs(config)]
    bar = progress_bar(2 * len(jobs), f"synth {preset}", unit="scan", disable=not progress)
    data = new_dataset(DISEASE_CLASSES)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for scans in pool.map(_render_patient, jobs, chunksize=1):
                data["scans"] += scans
                bar.update(len(scans))
    else:
        for job in jobs:
            scans = _render_patient(job)
            data["scans"] += scans
            bar.update(len(scans))
    bar.close()
    data["synth"] = {"generator": VERSION, "preset": preset, "seed": int(seed), "settings": config}
    path = out / "dataset.json"
    write_dataset(path, data, overwrite=True)
    return path
