"""Read a DICOM file, including the raw datasets without preamble and file meta that older exports write."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

# (implicit VR, little endian) of a raw dataset -> the transfer syntax it was written in
_RAW_SYNTAX = {(True, True): ImplicitVRLittleEndian, (False, True): ExplicitVRLittleEndian,
               (False, False): ExplicitVRBigEndian}


def _raw_dataset(path: Path, **kwargs):
    """The dataset of a file without the 'DICM' preamble, or None when it does not parse as an SOP instance."""
    try:
        ds = pydicom.dcmread(path, force=True, **kwargs)
        if not ("SOPClassUID" in ds and "SOPInstanceUID" in ds and str(ds.SOPClassUID).startswith("1.2.840.10008.")):
            return None
        syntax = _RAW_SYNTAX.get(tuple(ds.original_encoding))
    except Exception:  # noqa: BLE001 - forced parsing of a non-DICOM file fails in many ways; it is just not DICOM
        return None
    if syntax is None:
        return None
    ds.file_meta.TransferSyntaxUID = syntax
    return ds


def read_dataset(path: Path, **kwargs):
    """pydicom.dcmread(path, **kwargs), falling back to a raw dataset; InvalidDicomError when it is neither."""
    try:
        return pydicom.dcmread(path, **kwargs)
    except InvalidDicomError:
        ds = _raw_dataset(path, **kwargs)
        if ds is None:
            raise
        return ds
