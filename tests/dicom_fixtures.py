"""Write small MR DICOM series with pydicom for the tests: oblique, anisotropic, shuffled, with a fake patient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid
from scipy.spatial.transform import Rotation

# Distinctive identifiers that must never appear in any output.
PATIENT_NAME = "Zyxquorbel^Wendeline"
PATIENT_ID = "PID-83920417-QX"
PATIENT_BIRTH_DATE = "19230517"

SAGITTAL_IOP = ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0))  # columns go posterior, rows go inferior
AXIAL_IOP = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))  # columns go left, rows go posterior


def tilted(iop, degrees: float, axis: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Row and column direction cosines rotated by `degrees` about an LPS axis."""
    rotation = Rotation.from_euler(axis, degrees, degrees=True).as_matrix()
    return rotation @ np.asarray(iop[0], float), rotation @ np.asarray(iop[1], float)


def image_values(n_slices: int, rows: int, columns: int, seed: int = 0) -> np.ndarray:
    """Distinct stored values (uint16) for every voxel, in (slice, row, column) acquisition order."""
    rng = np.random.default_rng(seed)
    return rng.permutation(n_slices * rows * columns).reshape(n_slices, rows, columns).astype(np.uint16) + 7


def series_header(
    series_uid: str,
    *,
    description: str = "T2_TSE_SAG",
    echo_time_ms: float = 100.0,
    repetition_time_ms: float = 3500.0,
    body_part: str = "LSPINE",
    series_number: int = 3,
    study_uid: str | None = None,
) -> Dataset:
    """Header fields shared by every slice of a series, including a distinctive fake patient."""
    ds = Dataset()
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = PATIENT_BIRTH_DATE
    ds.Modality = "MR"
    ds.Manufacturer = "TestVendor"
    ds.MagneticFieldStrength = 1.5
    ds.SeriesInstanceUID = series_uid
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.SeriesDescription = description
    ds.SeriesNumber = series_number
    ds.BodyPartExamined = body_part
    ds.EchoTime = echo_time_ms
    ds.RepetitionTime = repetition_time_ms
    ds.ScanningSequence = "SE"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M"]
    return ds


def write_slice(path: Path, shared: Dataset, values: np.ndarray, position, iop, pixel_spacing, *,
                instance: int, slope: float = 1.0, intercept: float = 0.0, slice_thickness: float = 4.0) -> None:
    """Write one MR Image Storage file holding `values` (rows, columns) at `position` (LPS mm)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.update(shared)
    ds.file_meta = meta
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.InstanceNumber = instance
    ds.ImagePositionPatient = [round(float(v), 6) for v in position]
    ds.ImageOrientationPatient = [round(float(v), 8) for v in np.concatenate(iop)]
    ds.PixelSpacing = [float(v) for v in pixel_spacing]
    ds.SliceThickness = slice_thickness
    ds.Rows, ds.Columns = values.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.RescaleSlope = slope
    ds.RescaleIntercept = intercept
    ds.PixelData = np.ascontiguousarray(values, dtype="<u2").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def write_series(
    folder: Path,
    values: np.ndarray,
    *,
    iop=SAGITTAL_IOP,
    pixel_spacing=(0.5, 0.5),
    slice_step_mm: float = 4.0,
    origin=(-20.0, -30.0, 40.0),
    series_uid: str | None = None,
    shuffle: bool = True,
    seed: int = 1,
    slopes=None,
    offsets_mm=None,
    prefix: str = "",
    **header,
) -> dict:
    """Write a (slice, row, column) uint16 array as one series; slices stacked along +normal from `origin`.

    Files get random names and InstanceNumbers unrelated to position when `shuffle`; `offsets_mm` overrides the
    slice positions along the normal; `slopes` gives per-slice RescaleSlope (intercept -3). Returns the facts.
    """
    rng = np.random.default_rng(seed)
    row_dir, column_dir = (np.asarray(v, float) for v in iop)
    normal = np.cross(row_dir, column_dir)
    series_uid = series_uid or generate_uid()
    shared = series_header(series_uid, **header)
    n = values.shape[0]
    offsets = np.arange(n) * slice_step_mm if offsets_mm is None else np.asarray(offsets_mm, float)
    instances = rng.permutation(n) + 1 if shuffle else np.arange(n) + 1
    names = [f"{prefix}{rng.integers(1e9):09d}" for _ in range(n)] if shuffle else [f"{prefix}IM{i:04d}.dcm" for i in range(n)]
    intercept = 0.0 if slopes is None else -3.0
    slopes = np.ones(n) if slopes is None else np.asarray(slopes, float)
    for k in (rng.permutation(n) if shuffle else range(n)):
        position = np.asarray(origin, float) + offsets[k] * normal
        write_slice(folder / names[k], shared, values[k], position, (row_dir, column_dir), pixel_spacing,
                    instance=int(instances[k]), slope=float(slopes[k]), intercept=intercept)
    return {"series_uid": series_uid, "files": [folder / name for name in names], "normal": normal,
            "values": values * slopes[:, None, None] + intercept}
