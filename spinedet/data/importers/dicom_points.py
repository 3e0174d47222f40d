"""Labelled DICOM pixels as LPS points, and whether a point lies inside another series' slices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from spinedet.io.dicom_geometry import pixel_to_lps, plane_axes

GEOMETRY_KEYWORDS = ("ImageOrientationPatient", "ImagePositionPatient", "PixelSpacing", "Rows", "Columns")


def read_series_headers(folder: Path) -> tuple[dict[int, object], str | None]:
    """instance number -> header (no pixels) of each <instance>.dcm in a series folder, or ({}, why not)."""
    headers = {}
    for path in sorted(folder.glob("*.dcm")):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except (InvalidDicomError, OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as exc:
            return {}, f"{path.name} is not readable DICOM ({type(exc).__name__})"
        missing = [k for k in GEOMETRY_KEYWORDS if k not in ds]
        if missing:
            return {}, f"{path.name} lacks {missing}"
        number = int(path.stem) if path.stem.isdigit() else int(ds.get("InstanceNumber", -1))
        headers[number] = ds
    if not headers:
        return {}, "holds no .dcm file"
    return headers, None


def frame_of_reference(headers: dict[int, object]) -> str | None:
    """The series' FrameOfReferenceUID when all its instances share one."""
    uids = {str(ds.get("FrameOfReferenceUID", "") or "") for ds in headers.values()}
    return uids.pop() if len(uids) == 1 and "" not in uids else None


def point_lps(ds, x: float, y: float) -> np.ndarray:
    """LPS mm of the labelled pixel (x = column, y = row, continuous, pixel centres on integers)."""
    return pixel_to_lps(ds, row=y, column=x)


def _in_plane(ds, point: np.ndarray) -> bool:
    along_row, along_column, _ = plane_axes(ds)
    offset = point - np.array([float(v) for v in ds.ImagePositionPatient], float)
    row_spacing, column_spacing = (float(v) for v in ds.PixelSpacing)
    column = offset @ along_row / column_spacing
    row = offset @ along_column / row_spacing
    return -0.5 <= column <= int(ds.Columns) - 0.5 and -0.5 <= row <= int(ds.Rows) - 0.5


def contains(headers: dict[int, object], point: np.ndarray) -> bool:
    """Whether `point` is within half a slice gap of the nearest instance's plane and inside that image."""
    positions = {n: np.array([float(v) for v in ds.ImagePositionPatient], float) for n, ds in headers.items()}
    distance = {n: float((point - positions[n]) @ plane_axes(ds)[2]) for n, ds in headers.items()}
    nearest = min(distance, key=lambda n: abs(distance[n]))
    normal = plane_axes(headers[nearest])[2]
    along = sorted(float((positions[n] - positions[nearest]) @ normal) for n in headers)
    gaps = [abs(v) for v in along if abs(v) > 1e-3]
    half_gap = min(gaps) / 2 if gaps else float(headers[nearest].get("SliceThickness", 0) or 0) / 2
    return abs(distance[nearest]) <= half_gap + 1e-6 and _in_plane(headers[nearest], point)
