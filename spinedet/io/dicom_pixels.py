"""Pixel values of one DICOM image after RescaleSlope/Intercept: pydicom, or GDCM (SimpleITK) for codecs pydicom lacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk
from pydicom.pixels import pixel_array

from spinedet.errors import InputError
from spinedet.io.dicom_files import has_pixel_data
from spinedet.io.dicom_frames import FRAME_INDEX
from spinedet.io.dicom_read import read_dataset


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"


def _gdcm_pixels(path: Path, transfer_syntax) -> np.ndarray:
    """Decode with SimpleITK's GDCM (JPEG Lossless, JPEG-LS, JPEG 2000, ...); GDCM applies the rescale itself."""
    try:
        image = sitk.ReadImage(str(path), imageIO="GDCMImageIO")
    except RuntimeError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip() and "Exception" not in ln]
        raise InputError(path, f"compressed pixel data ({transfer_syntax.name}) cannot be decoded "
                               f"({(lines[-1] if lines else 'GDCM failed')[:120]})") from None
    values = sitk.GetArrayFromImage(image).astype(np.float64)
    return values[0] if values.ndim == 3 and values.shape[0] == 1 else values


def _frame_pixels(path: Path, header) -> np.ndarray:
    """One frame of an enhanced multi-frame file, rescaled by that frame's own slope and intercept."""
    try:
        values = pixel_array(path, index=getattr(header, FRAME_INDEX)).astype(np.float64)
    except Exception as exc:  # noqa: BLE001 - truncated data, a codec pydicom lacks, an inconsistent header
        raise InputError(path, f"frame {getattr(header, FRAME_INDEX) + 1} cannot be decoded ({_short(exc)})") from None
    return values * float(header.get("RescaleSlope", 1.0) or 1.0) + float(header.get("RescaleIntercept", 0.0) or 0.0)


def modality_pixels(path: Path, rows: int, columns: int, header=None) -> np.ndarray:
    """The (rows, columns) float64 values of one image in modality units (slope and intercept applied).

    `header` is the slice's header from listing; for a frame of an enhanced image it names the frame.
    """
    if header is not None and hasattr(header, FRAME_INDEX):
        values = _frame_pixels(path, header)
        if values.shape != (rows, columns):
            raise InputError(path, f"frame pixel array has shape {values.shape}, expected {(rows, columns)}")
        return values
    try:
        ds = read_dataset(path)
    except Exception as exc:  # noqa: BLE001 - any failure to parse a user file is reported as bad input
        raise InputError(path, f"corrupt or truncated DICOM file ({_short(exc)})") from None
    if not has_pixel_data(ds):
        raise InputError(path, "has no pixel data")
    transfer_syntax = getattr(ds, "file_meta", {}).get("TransferSyntaxUID")
    try:
        values = ds.pixel_array.astype(np.float64)
        rescale = True
    except (RuntimeError, NotImplementedError) as exc:
        if transfer_syntax is None or not transfer_syntax.is_compressed:
            raise InputError(path, f"pixel data cannot be decoded ({_short(exc)})") from None
        values, rescale = _gdcm_pixels(path, transfer_syntax), False
    except Exception as exc:  # noqa: BLE001 - truncated data or an inconsistent header
        raise InputError(path, f"pixel data cannot be decoded ({_short(exc)})") from None
    if values.shape != (rows, columns):
        raise InputError(path, f"pixel array has shape {values.shape}, expected {(rows, columns)}")
    if rescale:
        values = values * float(ds.get("RescaleSlope", 1.0) or 1.0) + float(ds.get("RescaleIntercept", 0.0) or 0.0)
    return values
