"""NIfTI, MHA/MHD and NRRD volumes through SimpleITK, which reads and writes them in LPS."""

from __future__ import annotations

from pathlib import Path

import nibabel
import numpy as np
import SimpleITK as sitk
from nibabel.imageglobals import LoggingOutputSuppressor

from spinedet.atomic import atomic_path
from spinedet.errors import InputError
from spinedet.io.image_header import image_header_problem, quiet_c_stderr

IMAGE_SUFFIXES = (".nii", ".nii.gz", ".mha", ".mhd", ".nrrd", ".nhdr")


def has_image_suffix(path: Path) -> bool:
    return str(path).lower().endswith(IMAGE_SUFFIXES)


def affine_of_sitk(image: sitk.Image) -> np.ndarray:
    """The 4x4 index (i, j, k) -> LPS mm affine of a SimpleITK image."""
    direction = np.array(image.GetDirection(), float).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = direction * np.array(image.GetSpacing(), float)
    affine[:3, 3] = image.GetOrigin()
    return affine


def _nifti_non_finite(path: Path) -> bool:
    """True when a NIfTI file stores NaN or infinite voxels (SimpleITK's reader silently turns NaN into 0)."""
    try:
        with LoggingOutputSuppressor():
            return not np.isfinite(np.asarray(nibabel.load(str(path)).dataobj)).all()
    except Exception as exc:  # noqa: BLE001 - SimpleITK read it, nibabel does not: bad input all the same
        raise InputError(path, f"voxels cannot be read by nibabel ({type(exc).__name__}: {str(exc)[:120]})") from None


def read_volume(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a 3D volume as (array indexed [i, j, k], index -> LPS affine)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "does not exist")
    if not has_image_suffix(path):
        raise InputError(path, f"unknown image extension (expected one of {', '.join(IMAGE_SUFFIXES)} or a DICOM folder)")
    if problem := image_header_problem(path):
        raise InputError(path, problem)
    try:
        with quiet_c_stderr():
            image = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip() and "Exception" not in ln), "unreadable")
        raise InputError(path, f"cannot be read as an image ({first[:160]})") from None
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(path, "has vector or colour pixels; a single-channel MR volume is expected")
    if image.GetDimension() == 4:
        size = image.GetSize()
        if size[3] != 1:
            raise InputError(path, f"is 4D with {size[3]} volumes; a single 3D volume is expected")
        image = image[:, :, :, 0]
    if image.GetDimension() != 3 or min(image.GetSize()) < 1:
        raise InputError(path, f"is {image.GetDimension()}D; a 3D volume is expected")
    if min(image.GetSize()) < 2:
        raise InputError(path, f"has size {image.GetSize()}: a 2D image, a 3D volume is expected")
    array = sitk.GetArrayFromImage(image).transpose(2, 1, 0)
    if not np.isfinite(array).all() or (str(path).lower().endswith((".nii", ".nii.gz")) and _nifti_non_finite(path)):
        raise InputError(path, "contains NaN or infinite voxel values")
    return array, affine_of_sitk(image)


def write_volume(path: str | Path, array: np.ndarray, affine: np.ndarray, overwrite: bool = True) -> None:
    """Write an array indexed [i, j, k] with an index -> LPS affine (orthogonal direction) atomically."""
    affine = np.asarray(affine, float)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    image = sitk.GetImageFromArray(np.ascontiguousarray(np.asarray(array).transpose(2, 1, 0)))
    image.SetSpacing([float(s) for s in spacing])
    image.SetDirection([float(v) for v in (affine[:3, :3] / spacing).ravel()])
    image.SetOrigin([float(v) for v in affine[:3, 3]])
    with atomic_path(path, overwrite) as tmp:
        sitk.WriteImage(image, str(tmp), useCompression=True)
