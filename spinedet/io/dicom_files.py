"""Find the DICOM images under a folder and read their headers, skipping (with a warning) what is not DICOM."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from pydicom.errors import InvalidDicomError

from spinedet.errors import InputError
from spinedet.io.dicom_read import read_dataset

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"  # the DICOMDIR's SOP class
MAX_NAMED_SKIPS = 5


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"spinedet: warning: {message}", file=sys.stderr)


def _truncation(path: Path, ds) -> str | None:
    """Why a parsed file is truncated or corrupt (pydicom stops quietly at a short read), or None."""
    if len(ds) == 0:
        return "truncated DICOM file: no data elements after the file meta information"
    last = ds.get_item(max(ds.keys()))
    if getattr(last, "length", 0xFFFFFFFF) == 0xFFFFFFFF or getattr(last, "value_tell", None) is None:
        return None
    end, size = last.value_tell + last.length, path.stat().st_size
    if end != size:
        return f"truncated or corrupt DICOM file: {size} bytes, but its last element {last.tag} ends at byte {end}"
    return None


def read_header(path: Path):
    """The header of one file (large values such as pixels deferred), None if it is not DICOM.

    InputError if it is DICOM but unreadable or truncated.
    """
    try:
        ds = read_dataset(path, defer_size="4 KB")
    except InvalidDicomError:
        return None
    except (OSError, EOFError, ValueError, KeyError, TypeError, OverflowError, AttributeError, IndexError) as exc:
        raise InputError(path, f"corrupt or truncated DICOM file ({type(exc).__name__}: {str(exc)[:120]})") from None
    problem = _truncation(path, ds)
    if problem:
        raise InputError(path, problem)
    return ds


def has_pixel_data(ds) -> bool:
    """True when the dataset holds (integer or float) pixel data."""
    return any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"))


def _is_image(ds) -> bool:
    return "ImagePositionPatient" in ds and "ImageOrientationPatient" in ds and "PixelSpacing" in ds


def _numbers(ds, keyword: str, count: int) -> np.ndarray | None:
    try:
        values = np.array([float(v) for v in ds[keyword].value], float)
    except (TypeError, ValueError, KeyError):
        return None
    return values if values.shape == (count,) and np.isfinite(values).all() else None


def geometry_problem(ds) -> str | None:
    """What is wrong with an image's plane geometry (position, orientation, pixel spacing, size), or None."""
    position, orientation = _numbers(ds, "ImagePositionPatient", 3), _numbers(ds, "ImageOrientationPatient", 6)
    spacing = _numbers(ds, "PixelSpacing", 2)
    if position is None:
        return f"invalid ImagePositionPatient {ds.get('ImagePositionPatient')!r} (3 numbers expected)"
    if orientation is None:
        return f"invalid ImageOrientationPatient {ds.get('ImageOrientationPatient')!r} (6 numbers expected)"
    row, column = orientation[:3], orientation[3:]
    if abs(np.linalg.norm(row) - 1) > 0.01 or abs(np.linalg.norm(column) - 1) > 0.01 or abs(row @ column) > 0.01:
        return f"ImageOrientationPatient {[float(v) for v in orientation]} is not two orthogonal unit vectors"
    if spacing is None or (spacing <= 0).any():
        return f"invalid PixelSpacing {ds.get('PixelSpacing')!r} (2 positive numbers expected)"
    if not int(ds.get("Rows", 0) or 0) > 0 or not int(ds.get("Columns", 0) or 0) > 0:
        return f"invalid image size Rows {ds.get('Rows')!r} x Columns {ds.get('Columns')!r}"
    return None


def read_image_headers(folder: Path) -> list[tuple[Path, object]]:
    """(path, header) of every DICOM image with plane geometry under `folder`, recursively, in path order."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(folder, "does not exist")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        raise InputError(folder, "is an empty folder")
    headers, not_dicom, no_geometry = [], [], []
    for path in files:
        ds = read_header(path)
        if ds is None:
            not_dicom.append(path)
        elif str(ds.get("SOPClassUID", "")) == MEDIA_STORAGE_DIRECTORY or path.name.upper() == "DICOMDIR":
            continue
        elif not _is_image(ds):
            no_geometry.append(path)
        elif problem := geometry_problem(ds):
            raise InputError(path, problem)
        else:
            headers.append((path, ds))
    for paths, what in ((not_dicom, "not DICOM"), (no_geometry, "DICOM without image plane geometry")):
        if paths:
            named = ", ".join(str(p) for p in paths[:MAX_NAMED_SKIPS])
            more = f" and {len(paths) - MAX_NAMED_SKIPS} more" if len(paths) > MAX_NAMED_SKIPS else ""
            warn(f"skipped {len(paths)} file(s), {what}: {named}{more}")
    if not headers:
        raise InputError(folder, f"holds no DICOM images with plane geometry ({len(files)} file(s) looked at)")
    return headers
