"""Real T2 scans (../shared/realdata): views from geometry, and a DICOM export of one loads back identically."""

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import generate_uid

from dicom_fixtures import series_header, write_slice
from spinedet.cli import main
from spinedet.io.load import load_scan

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
pytestmark = pytest.mark.skipif(not REALDATA.is_dir(), reason="shared/realdata is absent")


@pytest.mark.parametrize("name, view", [
    ("lumbar_sag_t2.nii.gz", "sagittal"), ("cervical_sag_t2.nii.gz", "sagittal"), ("cervical_ax_t2.nii.gz", "axial"),
])
def test_real_scans_load_in_their_view(name, view, capsys):
    assert main(["inspect", str(REALDATA / name)]) == 0
    assert f"view        {view}" in capsys.readouterr().out


def test_real_axial_scan_exported_as_shuffled_dicom_loads_back_identically(tmp_path):
    nifti = load_scan(REALDATA / "cervical_ax_t2.nii.gz")
    low, high = float(nifti.array.min()), float(nifti.array.max())
    slope = (high - low) / 60000.0
    stored = np.round((nifti.array - low) / slope).astype(np.uint16)
    spacing = nifti.spacing_mm
    along_row, along_column = nifti.affine[:3, 2] / spacing[2], nifti.affine[:3, 1] / spacing[1]
    shared = series_header(generate_uid(), description="t2 ax", body_part="CSPINE")
    rng = np.random.default_rng(5)
    for k, instance in zip(rng.permutation(len(stored)), rng.permutation(len(stored)) + 1):
        position = nifti.affine[:3, 3] + k * nifti.affine[:3, 0]
        write_slice(tmp_path / "dicom" / f"{rng.integers(1e9)}", shared, stored[k], position, (along_row, along_column),
                    (spacing[1], spacing[2]), instance=int(instance), slope=slope, intercept=low)
    dicom = load_scan(tmp_path / "dicom")
    assert dicom.view == "axial" and dicom.region == "cervical" and dicom.shape == nifti.shape
    assert np.allclose(dicom.affine, nifti.affine, atol=1e-4)
    assert np.allclose(dicom.array, stored * np.float32(slope) + np.float32(low), rtol=1e-5, atol=1e-3)
