"""Geometry of one DICOM image: pixel (row, column) to patient LPS mm."""

from __future__ import annotations

import numpy as np


def plane_axes(dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit LPS directions of increasing column index and increasing row index, and the slice normal."""
    iop = np.array([float(v) for v in dataset.ImageOrientationPatient], float)
    along_row, along_column = iop[:3], iop[3:]
    normal = np.cross(along_row, along_column)
    return along_row, along_column, normal / np.linalg.norm(normal)


def pixel_to_lps(dataset, row: float, column: float) -> np.ndarray:
    """LPS mm of the (continuous) pixel centre at (row, column) of one image, as PS3.3 C.7.6.2.1.1 defines."""
    along_row, along_column, _ = plane_axes(dataset)
    row_spacing, column_spacing = (float(v) for v in dataset.PixelSpacing)
    origin = np.array([float(v) for v in dataset.ImagePositionPatient], float)
    return origin + column * column_spacing * along_row + row * row_spacing * along_column
