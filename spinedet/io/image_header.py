"""Check an image file's header before its voxels are read: size (an 8-GiB claim fails before any allocation),
spacing, direction and, for NIfTI, the raw pixdim, qform and sform that SimpleITK would quietly repair."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import itertools
from pathlib import Path

from nibabel.imageglobals import LoggingOutputSuppressor
from nibabel.nifti1 import Nifti1Header
from nibabel.nifti2 import Nifti2Header
from nibabel.openers import ImageOpener
import numpy as np
import SimpleITK as sitk

MAX_VOXELS = 2**28  # 1 GiB as float32: 1024 x 1024 x 256, beyond any spine MR volume
SINGULAR = 1e-6  # |det| of the direction over the product of its column lengths below this: singular
sitk.ProcessObject.SetGlobalWarningDisplay(False)  # ITK's warnings go to the C stderr; problems are raised here


@contextlib.contextmanager
def quiet_c_stderr():
    """Discard what C libraries (niftilib, MetaIO) print to file descriptor 2 meanwhile: the exception says it."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _itk_first_line(exc: Exception) -> str:
    return next((ln.strip() for ln in str(exc).splitlines() if ln.strip() and "Exception" not in ln), "unreadable")[:160]


def _size_problem(size: tuple[int, ...]) -> str | None:
    voxels = int(np.prod([int(s) for s in size], dtype=object))
    if voxels > MAX_VOXELS:
        return (f"header claims {' x '.join(map(str, size))} = {voxels} voxels ({voxels * 4 / 2**30:.1f} GiB as "
                f"float32); at most {MAX_VOXELS} are read")
    return None


def _matrix_problem(name: str, matrix: np.ndarray) -> str | None:
    """Problem of a 3x3 index -> mm matrix (columns: voxel axes): not finite, or singular."""
    if not np.isfinite(matrix).all():
        return f"{name} holds NaN or infinite values"
    lengths = np.linalg.norm(matrix, axis=0)
    if (lengths == 0).any() or abs(np.linalg.det(matrix)) < SINGULAR * float(np.prod(lengths)):
        return f"{name} is singular (voxel axes of zero length or not independent)"
    return None


def _nifti_short(path: Path, header) -> str | None:
    """Whether an uncompressed NIfTI file holds fewer bytes than its header's voxels need (ITK reads it regardless)."""
    count = int(header["dim"][0])
    voxels = int(np.prod([max(int(d), 0) for d in header["dim"][1:count + 1]], dtype=object))
    if voxels > MAX_VOXELS:
        return None  # the size claim is named on its own
    need = int(header["vox_offset"]) + voxels * header.get_data_dtype().itemsize
    size = path.stat().st_size
    if size < need:
        return f"truncated: its header's {voxels} voxels need {need} bytes, the file has {size}"
    return None


def _nifti_problem(path: Path) -> str | None:
    """Raw NIfTI header problems: non-positive or non-finite pixdim, broken qform or sform, or the two disagreeing."""
    try:
        with LoggingOutputSuppressor(), ImageOpener(str(path)) as f:
            raw = f.read(540)
        first = int.from_bytes(raw[:4], "little")
        klass = Nifti2Header if 540 in (first, int.from_bytes(raw[:4], "big")) else Nifti1Header
        header = klass.from_fileobj(io.BytesIO(raw), check=False)  # the values as stored, none repaired
        if not 1 <= int(header["dim"][0]) <= 7:
            return f"dim[0] {int(header['dim'][0])} is not a number of dimensions from 1 to 7"
        if int(header["datatype"]) not in header._data_type_codes.code:
            return f"datatype code {int(header['datatype'])} is not a NIfTI data type"
        if str(path).lower().endswith(".nii") and (problem := _nifti_short(path, header)):
            return problem
        dims = [int(d) for d in header["dim"][1:4]]
        pixdim = np.array(header["pixdim"][1:4], float)
        quatern = np.array([header[k] for k in ("quatern_b", "quatern_c", "quatern_d")], float)
        qcode, scode = int(header["qform_code"]), int(header["sform_code"])
    except Exception as exc:  # noqa: BLE001 - nibabel rejects broken headers in many ways; all are bad input
        return f"NIfTI header cannot be read ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})"
    try:
        return _nifti_geometry_problem(header, dims, pixdim, quatern, qcode, scode)
    except Exception as exc:  # noqa: BLE001 - e.g. a qfac that is neither 1 nor -1
        return f"NIfTI header geometry cannot be read ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})"


def _nifti_geometry_problem(header, dims, pixdim, quatern, qcode, scode) -> str | None:
    spatial = min(max(int(header["dim"][0]), 1), 3)
    bad = [f"pixdim[{i + 1}] {pixdim[i]:g}" for i in range(spatial) if not (np.isfinite(pixdim[i]) and pixdim[i] > 0)]
    if bad:
        return f"voxel size {', '.join(bad)} (NIfTI voxel sizes must be positive and finite)"
    affines = {}
    if qcode > 0:
        if not np.isfinite(quatern).all() or quatern @ quatern > 1 + 1e-6:
            return f"qform quaternion (b, c, d) {[float(v) for v in quatern]} is not finite or not of length <= 1"
        affines["qform"] = header.get_qform()
    if scode > 0:
        affines["sform"] = np.array([header["srow_x"], header["srow_y"], header["srow_z"], [0, 0, 0, 1]], float)
    for name, affine in affines.items():
        if problem := _matrix_problem(name, affine[:3, :3]) or (None if np.isfinite(affine[:3, 3]).all()
                                                                 else f"{name} offset is not finite"):
            return problem
    if len(affines) == 2:
        corners = np.array(list(itertools.product(*[(0, max(d, 1) - 1) for d in dims])), float)
        q, s = (corners @ affines[k][:3, :3].T + affines[k][:3, 3] for k in ("qform", "sform"))
        apart = float(np.linalg.norm(q - s, axis=1).max())
        if apart > 0.5 * float(np.linalg.norm(affines["sform"][:3, :3], axis=0).min()):
            return (f"qform and sform disagree: the volume's corners lie up to {apart:.2f} mm apart "
                    "(set qform_code or sform_code to 0 to say which holds)")
    return None


def image_header_problem(path: Path) -> str | None:
    """What is wrong with an image file's header, or None; read without touching the voxels."""
    if str(path).lower().endswith((".nii", ".nii.gz")) and (problem := _nifti_problem(path)):
        return problem
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        with quiet_c_stderr():
            reader.ReadImageInformation()
    except RuntimeError as exc:
        return f"cannot be read as an image ({_itk_first_line(exc)})"
    size, dimension = reader.GetSize(), reader.GetDimension()
    if problem := _size_problem(size):
        return problem
    if dimension not in (2, 3, 4):
        return f"is {dimension}D; a 3D volume is expected"
    if dimension < 3:
        return None  # read_volume names a 2D image
    spacing = np.array(reader.GetSpacing(), float)[:3]
    if not (np.isfinite(spacing).all() and (spacing > 0).all()):
        return f"voxel spacing {[float(s) for s in spacing]} is not positive and finite"
    direction = np.array(reader.GetDirection(), float).reshape(dimension, dimension)[:3, :3]
    return _matrix_problem("direction", direction)
