"""Find the DICOM images under a folder and read their headers, skipping (with a warning) what is not DICOM."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from pydicom.errors import InvalidDicomError

from spinedet.errors import InputError
from spinedet.io.dicom_duplicates import drop_duplicate_instances
from spinedet.io.dicom_frames import frame_headers, is_enhanced
from spinedet.io.dicom_read import read_dataset

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"  # the DICOMDIR's SOP class
MAX_NAMED_SKIPS = 5
WHOLE_NUMBERS = ("Rows", "Columns", "SamplesPerPixel", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation")


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"spinedet: warning: {message}", file=sys.stderr)


def _truncation(path: Path, ds) -> str | None:
    """Why a parsed file is truncated or corrupt (pydicom stops quietly at a short read), or None."""
    if len(ds) == 0:
        return "truncated DICOM file: no data elements after the file meta information"
    last = ds.get_item(max(ds.keys()), keep_deferred=True)  # a deferred value stays unread, its length known
    if getattr(last, "length", 0xFFFFFFFF) == 0xFFFFFFFF or getattr(last, "value_tell", None) is None:
        return None
    end, size = last.value_tell + last.length, path.stat().st_size
    if end != size:
        return f"truncated or corrupt DICOM file: {size} bytes, but its last element {last.tag} ends at byte {end}"
    return None


def _convert_all(ds) -> None:
    """Decode every element now (pydicom decodes lazily, so a corrupt one would fail later), leaving deferred ones."""
    for tag in list(ds.keys()):
        element = ds.get_item(tag)
        if getattr(element, "value", None) is None and getattr(element, "length", 0):
            continue  # deferred large value, such as the pixel data
        value = ds[tag].value
        if ds[tag].VR == "SQ":
            for item in value:
                _convert_all(item)


def number(ds, keyword: str, default: float | None = None) -> float | None:
    """A header value as a finite float, or `default` when it is absent, empty or not a number."""
    try:
        value = float(ds.get(keyword))
    except (TypeError, ValueError):
        return default
    return value if np.isfinite(value) else default


def read_header(path: Path):
    """The header of one file (large values such as pixels deferred), None if it is not DICOM.

    InputError if it is DICOM but unreadable or truncated.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns about non-conformant values; they are checked where used
            ds = read_dataset(path, defer_size="4 KB")
            problem = _truncation(path, ds)  # before decoding, while the elements still know their file offsets
            if problem is None:
                _convert_all(ds)
    except InvalidDicomError:
        return None
    except Exception as exc:  # noqa: BLE001 - pydicom fails on corrupt files in many ways; all are bad input
        raise InputError(path, f"corrupt or truncated DICOM file ({type(exc).__name__}: {str(exc)[:120]})") from None
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


def header_problem(ds) -> str | None:
    """What is wrong with an image header (geometry, size, rescale, frames, transfer syntax), or None."""
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
    for keyword in WHOLE_NUMBERS:
        value = ds.get(keyword)
        if value not in (None, "") and not isinstance(value, int):  # pydicom reads US and IS as int, lists otherwise
            return f"invalid {keyword} {repr(value)[:60]} (one whole number expected)"
    if not int(ds.get("Rows", 0) or 0) > 0 or not int(ds.get("Columns", 0) or 0) > 0:
        return f"invalid image size Rows {ds.get('Rows')!r} x Columns {ds.get('Columns')!r}"
    for keyword in ("RescaleSlope", "RescaleIntercept", "NumberOfFrames"):
        if ds.get(keyword) not in (None, "") and number(ds, keyword) is None:
            return f"invalid {keyword} {ds.get(keyword)!r} (a number expected)"
    syntax = getattr(ds, "file_meta", {}).get("TransferSyntaxUID")
    if syntax is not None and not syntax.is_transfer_syntax:
        return f"unknown transfer syntax {str(syntax)!r}"
    return None


def _checked_frames(path: Path, ds) -> list:
    """The frame headers of an enhanced image; InputError naming the first frame with broken plane geometry."""
    frames = frame_headers(ds)
    for number, frame in enumerate(frames, start=1):
        if not _is_image(frame) or (problem := header_problem(frame)):
            raise InputError(path, f"frame {number}: {problem if _is_image(frame) else 'no plane position or orientation'}")
    return frames


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
        elif is_enhanced(ds):
            headers.extend((path, frame) for frame in _checked_frames(path, ds))
        elif not _is_image(ds):
            no_geometry.append(path)
        elif problem := header_problem(ds):
            raise InputError(path, problem)
        else:
            headers.append((path, ds))
    headers, copies = drop_duplicate_instances(headers)
    for paths, what in ((not_dicom, "not DICOM"), (no_geometry, "DICOM without image plane geometry"),
                        (copies, "copies of instances read from another file (same SOPInstanceUID)")):
        if paths:
            named = ", ".join(str(p) for p in paths[:MAX_NAMED_SKIPS])
            more = f" and {len(paths) - MAX_NAMED_SKIPS} more" if len(paths) > MAX_NAMED_SKIPS else ""
            warn(f"skipped {len(paths)} file(s), {what}: {named}{more}")
    if not headers:
        raise InputError(folder, f"holds no DICOM images with plane geometry ({len(files)} file(s) looked at)")
    return headers
