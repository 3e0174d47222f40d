"""Scan loading with exact geometry: DICOM series and studies, NIfTI, MHA/MHD, NRRD."""

from spinedet.io.scan import Scan

__all__ = ["Scan"]
