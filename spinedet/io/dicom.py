"""DICOM series and studies: list the series of a folder, choose one, load it as a canonical Scan."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom

from spinedet.errors import InputError
from spinedet.io import geometry, series_classify
from spinedet.io.dicom_files import number, read_image_headers
from spinedet.io.dicom_pick import pick_series
from spinedet.io.dicom_pixels import modality_pixels
from spinedet.io.dicom_stack import group_stacks, stack_geometry
from spinedet.io.scan import Scan

__all__ = ["DicomSeries", "list_series", "select_series", "load_series", "pick_series"]

# Header fields kept as metadata: technical only, never a patient identifier.
_META_FIELDS = {
    "modality": "Modality",
    "manufacturer": "Manufacturer",
    "model": "ManufacturerModelName",
    "field_strength_t": "MagneticFieldStrength",
    "echo_time_ms": "EchoTime",
    "repetition_time_ms": "RepetitionTime",
    "inversion_time_ms": "InversionTime",
    "slice_thickness_mm": "SliceThickness",
    "series_number": "SeriesNumber",
    "body_part": "BodyPartExamined",
}


@dataclass
class DicomSeries:
    """One stack of a DICOM series (one orientation and echo), its files sorted along the slice normal."""

    folder: Path
    series_uid: str
    stack: int
    stack_count: int
    files: list[Path]
    header: pydicom.Dataset  # the first slice's header, for classification and metadata
    affine: np.ndarray  # (slice, row, column) index -> LPS mm, slices in file-sorted order
    problem: str | None
    slice_headers: list = field(default_factory=list)  # per slice, same order; names the frame of enhanced files

    @property
    def key(self) -> str:
        """The series UID, with '#k' (1-based stack) when the series holds several orientations or echoes."""
        return self.series_uid if self.stack_count == 1 else f"{self.series_uid}#{self.stack + 1}"

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.files), int(self.header.Rows), int(self.header.Columns))

    @property
    def files_folder(self) -> Path:
        """The deepest folder holding all of this stack's files (for a study: the series' own folder)."""
        return Path(os.path.commonpath([p.parent for p in self.files]))

    @property
    def description(self) -> str:
        return str(self.header.get("SeriesDescription", "") or "")

    @property
    def view_and_tilt(self) -> tuple[str, float]:
        return geometry.view_of_normal(self.affine[:3, 0])

    @property
    def view(self) -> str:
        return self.view_and_tilt[0]

    @property
    def weighting(self) -> tuple[str, str]:
        return series_classify.weighting_of(self.header)

    @property
    def region(self) -> tuple[str | None, str]:
        return series_classify.region_of(self.header)

    @property
    def localiser(self) -> bool:
        return series_classify.is_localiser(self.header)

    @property
    def fat_suppressed(self) -> bool:
        return series_classify.is_fat_suppressed(self.header)

    def meta(self) -> dict:
        """Non-identifying metadata: series UID, description, technique; never patient fields."""
        meta = {"series_uid": self.series_uid, "series_key": self.key, "description": self.description,
                "weighting": self.weighting[0]}
        for name, keyword in _META_FIELDS.items():
            value = self.header.get(keyword)
            if value in (None, ""):
                continue
            if isinstance(value, str):
                meta[name] = value
            elif (numeric := number(self.header, keyword)) is not None:
                meta[name] = int(numeric) if name == "series_number" else numeric
        return meta

    def canonical_geometry(self) -> tuple[list[int], np.ndarray]:
        """The canonical shape and canonical-voxel -> LPS affine this stack loads as (from headers only)."""
        perm, flips = geometry.canonical_transform(self.affine, self.view)
        return [self.shape[a] for a in perm], geometry.reoriented_affine(self.affine, self.shape, perm, flips)

    def describe(self, index: int) -> dict:
        """A JSON-ready summary from the headers (what `spinedet inspect` lists for a study)."""
        shape, affine = self.canonical_geometry()
        view, tilt = self.view_and_tilt
        (weighting, weighting_reason), (region, region_reason) = self.weighting, self.region
        return {
            "index": index, "path": str(self.folder), "files_folder": str(self.files_folder),
            "series_uid": self.series_uid, "series_key": self.key,
            "stack": self.stack + 1, "stack_count": self.stack_count, "description": self.description,
            "view": view, "tilt_deg": round(tilt, 3), "slices": self.shape[0], "shape": shape,
            "spacing_mm": [float(s) for s in geometry.spacing_of(affine)],
            "affine": [[float(v) for v in row] for row in affine],
            "orientation": [round(float(v), 4) for v in self.header.ImageOrientationPatient],
            "weighting": weighting, "weighting_from": weighting_reason, "region": region, "region_from": region_reason,
            "localiser": self.localiser, "fat_suppressed": self.fat_suppressed, "problem": self.problem,
        }

    def summary(self, index: int) -> str:
        """One short line naming this series among others."""
        problem = f", unusable: {self.problem}" if self.problem else ""
        return f"[{index}] {self.key} '{self.description}' {self.view} {self.weighting[0]} {self.shape[0]} slices{problem}"


def list_series(folder: str | Path) -> list[DicomSeries]:
    """Every series stack under `folder`, ordered by SeriesNumber, UID and stack; problems are recorded, not raised."""
    folder = Path(folder)
    found = []
    for uid, stacks in group_stacks(read_image_headers(folder)).items():
        for k, stack in enumerate(stacks):
            stack, affine, problem = stack_geometry(stack, folder)
            found.append(DicomSeries(folder, uid, k, len(stacks), [p for p, _ in stack], stack[0][1], affine, problem,
                                     [h for _, h in stack]))
    return sorted(found, key=lambda s: (number(s.header, "SeriesNumber", 0.0), s.series_uid, s.stack))


def select_series(series_list: list[DicomSeries], selector: str | int | None, folder: str | Path) -> DicomSeries:
    """The series chosen by index, key or UID (None: the only one); InputError listing the choices otherwise."""
    choices = "; ".join(s.summary(i) for i, s in enumerate(series_list))
    if selector is None:
        if len(series_list) == 1:
            return series_list[0]
        return _fail(folder, f"holds {len(series_list)} series stacks; choose one with --series UID|INDEX: {choices}")
    text = str(selector).strip()
    if text.isdigit():
        if int(text) < len(series_list):
            return series_list[int(text)]
        return _fail(folder, f"has no series index {text}; choices: {choices}")
    matches = [s for s in series_list if s.key == text] or [s for s in series_list if s.series_uid == text]
    if len(matches) == 1:
        return matches[0]
    if matches:
        return _fail(folder, f"series {text} has {len(matches)} stacks of different orientation or echo; choose one "
                     f"by key or index: {choices}")
    return _fail(folder, f"has no series {text}; choices: {choices}")


def _fail(folder, problem: str):
    raise InputError(folder, problem)


def load_series(series: DicomSeries, *, view: str | None = None, region: str | None = None) -> Scan:
    """Read the pixels of one series stack (rescaled) and return it as a canonical Scan."""
    if series.problem:
        raise InputError(series.folder, f"series {series.key}: {series.problem}")
    _, rows, columns = series.shape
    with np.errstate(over="ignore", invalid="ignore"):
        headers = series.slice_headers or [None] * len(series.files)
        array = np.stack([modality_pixels(path, rows, columns, header)
                          for path, header in zip(series.files, headers)]).astype(np.float32)
    if not np.isfinite(array).all():
        bad = next(p for p, s in zip(series.files, array) if not np.isfinite(s).all())
        raise InputError(bad, "contains NaN or infinite pixel values (after RescaleSlope/Intercept)")
    return Scan.from_array(
        array, series.affine, slice_axis=0, view=view, region=region or series.region[0],
        source=str(series.folder), meta=series.meta(),
    )
