"""What `detect` predicts: the scans of its input (file, series folder, DICOM study, dataset.json) and their models."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from spinedet.data.dataset import image_path, load_dataset
from spinedet.errors import InputError
from spinedet.io.dicom import list_series, load_series, pick_series
from spinedet.io.image_file import IMAGE_SUFFIXES
from spinedet.io.load import load_scan
from spinedet.io.scan import Scan


@dataclass
class Job:
    """One scan to predict: its dataset entry (without outputs), where to load it from, and which models apply."""

    info: dict
    source: Path
    models: list[int]
    load_kwargs: dict = field(default_factory=dict)
    scan: Scan | None = None

    def load(self) -> Scan:
        """The scan, loaded now unless it was loaded while resolving the input."""
        return self.scan if self.scan is not None else load_scan(self.source, **self.load_kwargs)


def scan_id_of(path: Path) -> str:
    """A scan id from a file or folder name, without image suffixes."""
    name = path.name
    for suffix in sorted(IMAGE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _relative(path: Path, out_dir: Path) -> str:
    return Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()


def _models_for(view: str, region: str | None, metas: list[dict]) -> list[int]:
    return [m for m, meta in enumerate(metas) if meta["view"] == view and (region is None or meta["region"] == region)]


def _describe(metas: list[dict]) -> str:
    return ", ".join(f"{m['region']} {m['view']}" for m in metas)


def dataset_jobs(path: Path, metas: list[dict], out_dir: Path) -> tuple[list[Job], list[str]]:
    """Every scan of a dataset.json whose view and region match a model, and a note on the skipped ones."""
    data = load_dataset(path)
    jobs = []
    for scan in data["scans"]:
        models = _models_for(scan["view"], scan["region"], metas)
        if not models:
            continue
        info = {k: scan[k] for k in ("id", "patient", "center", "region", "view") if k in scan}
        if "split" in scan:
            info["split"] = scan["split"]
        source = image_path(path, scan)
        info["image"] = _relative(source, out_dir)
        jobs.append(Job(info, source, models, {"view": scan["view"], "region": scan["region"]}))
    if not jobs:
        raise InputError(path, f"no scan matches the view and region of any model ({_describe(metas)})")
    skipped = len(data["scans"]) - len(jobs)
    notes = [f"{skipped} of {len(data['scans'])} scans match no model's view and region and are skipped"] if skipped else []
    return jobs, notes


def single_scan_job(path: Path, scan: Scan, metas: list[dict], out_dir: Path, load_kwargs: dict) -> Job:
    """The job for one loaded scan (file or series folder): every model of its view, all of one region."""
    models = _models_for(scan.view, scan.region, metas)
    if not models:
        raise InputError(path, f"is a {scan.view} scan; no model is for that view (models: {_describe(metas)})")
    regions = sorted({metas[m]["region"] for m in models})
    if len(regions) > 1:
        raise InputError(path, f"models of several regions ({', '.join(regions)}) fit this {scan.view} scan; give one")
    info = {
        "id": scan_id_of(path),
        "patient": scan_id_of(path),
        "center": "unknown",
        "region": regions[0],
        "view": scan.view,
        "image": _relative(path, out_dir),
    }
    scan.region = regions[0]
    return Job(info, path, models, {**load_kwargs, "view": scan.view, "region": regions[0]}, scan=scan)


def dicom_jobs(folder: Path, metas: list[dict], out_dir: Path) -> tuple[list[Job], list[str]]:
    """A series folder: one job as for a file. A study: per model, the series that `pick_series` chooses for its view.

    Models that choose the same series share its job; the notes say which series each model got and why.
    """
    series_list = list_series(folder)
    if len(series_list) == 1:
        series = series_list[0]
        return [single_scan_job(folder, load_series(series), metas, out_dir, {"series": series.key})], []
    chosen: dict[str, Job] = {}
    notes = []
    for m, meta in enumerate(metas):
        series, reason = pick_series(series_list, meta["view"])
        header_region = series.region[0] if series is not None else None
        if series is not None and header_region not in (None, meta["region"]):
            series, reason = None, f"{reason}; but its headers say {header_region}"
        notes.append(f"model {m + 1} ({meta['region']} {meta['view']}): {reason if series else 'nothing to do: ' + reason}")
        if series is None:
            continue
        key = (series.key, meta["region"])
        if key not in chosen:
            number = series.meta().get("series_number", next(i for i, s in enumerate(series_list) if s is series))
            sid = f"{folder.name}-{meta['view']}-s{number}"
            info = {"id": sid, "patient": folder.name, "center": "unknown", "region": meta["region"],
                    "view": meta["view"], "image": _relative(folder, out_dir), "series": series.key}
            chosen[key] = Job(info, folder, [], {"series": series.key, "view": meta["view"], "region": meta["region"]})
        chosen[key].models.append(m)
    if not chosen:
        raise InputError(folder, "no series of this study fits any model: " + " | ".join(notes))
    return list(chosen.values()), notes
