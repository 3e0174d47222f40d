"""Load a Scan from any supported source: an image file or a DICOM series or study folder."""

from __future__ import annotations

from pathlib import Path

from spinedet.errors import InputError
from spinedet.io.dicom import list_series, load_series, select_series
from spinedet.io.dicom_files import number, read_header
from spinedet.io.image_file import has_image_suffix, read_volume
from spinedet.io.scan import Scan


def load_scan(
    path: str | Path, *, view: str | None = None, region: str | None = None, series: str | int | None = None
) -> Scan:
    """Load an image file or a DICOM folder as a canonical Scan.

    `series` (UID, UID#stack or index from `spinedet inspect`) chooses among the series of a study folder;
    `view` overrides the view read from the geometry, `region` the region read from the headers.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "does not exist")
    if path.is_dir():
        chosen = select_series(list_series(path), series, path)
        return load_series(chosen, view=view, region=region)
    if series is not None:
        raise InputError(path, "is an image file; --series applies to DICOM folders only")
    if not has_image_suffix(path) and (header := read_header(path)) is not None:
        frames = number(header, "NumberOfFrames", 1.0)
        what = "one DICOM image (2D)" if frames == 1 else f"one DICOM file of {int(frames)} frames"
        raise InputError(path, f"is {what}; give the folder that holds it (and the rest of its series)")
    array, affine = read_volume(path)
    return Scan.from_array(array, affine, view=view, region=region, source=str(path))
