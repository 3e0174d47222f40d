"""Load a Scan from any supported source: an image file or a DICOM series or study folder."""

from __future__ import annotations

from pathlib import Path

from spinedet.errors import InputError
from spinedet.io.image_file import read_volume
from spinedet.io.scan import Scan


def load_scan(path: str | Path, *, view: str | None = None, region: str | None = None) -> Scan:
    """Load an image file as a canonical Scan; `view` overrides the view read from its geometry."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "does not exist")
    if path.is_dir():
        raise InputError(path, "is a folder; DICOM folders are not supported yet")
    array, affine = read_volume(path)
    return Scan.from_array(array, affine, view=view, region=region, source=str(path))
