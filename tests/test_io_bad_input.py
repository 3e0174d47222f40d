"""Bad input gives one line naming the file and the problem, exit code 2, no traceback; no patient data leaks."""

import subprocess
import sys

import numpy as np
import pydicom
import pytest

from dicom_fixtures import (AXIAL_IOP, PATIENT_BIRTH_DATE, PATIENT_ID, PATIENT_NAME, SAGITTAL_IOP, image_values,
                            tilted, write_series)
from spinedet.cli import main
from spinedet.errors import InputError
from spinedet.io.image_file import write_volume
from spinedet.io.load import load_scan


def _inspect_error(capsys, *args) -> str:
    assert main(["inspect", *map(str, args)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and "Traceback" not in captured.err
    assert lines[-1].startswith("spinedet inspect: error: ")
    return lines[-1]


def _series(tmp_path, n=6, **kwargs):
    return write_series(tmp_path / "s", image_values(n, 16, 20), shuffle=False, **kwargs)


def _edit(path, **fields):
    ds = pydicom.dcmread(path)
    for keyword, value in fields.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    ds.save_as(path, enforce_file_format=True)


def test_missing_path_and_empty_folder(tmp_path, capsys):
    assert _inspect_error(capsys, tmp_path / "nope").endswith("nope: does not exist")
    (tmp_path / "empty").mkdir()
    assert _inspect_error(capsys, tmp_path / "empty").endswith("empty: is an empty folder")


def test_unknown_extension_and_folder_without_dicom(tmp_path, capsys):
    (tmp_path / "scan.xyz").write_text("not an image")
    assert "scan.xyz: unknown image extension" in _inspect_error(capsys, tmp_path / "scan.xyz")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("hello")
    line = _inspect_error(capsys, tmp_path / "docs")
    assert "docs: holds no DICOM images" in line


def test_non_dicom_files_in_a_series_are_skipped_with_a_warning(tmp_path, capsys):
    facts = _series(tmp_path)
    (tmp_path / "s" / "Thumbs.db").write_bytes(b"\x00\x01junk")
    (tmp_path / "s" / "index.html").write_text("<html></html>")
    scan = load_scan(tmp_path / "s")
    err = capsys.readouterr().err
    assert scan.shape == (6, 16, 20) and scan.meta["series_uid"] == facts["series_uid"]
    assert "warning: skipped 2 file(s), not DICOM" in err and "Thumbs.db" in err and "index.html" in err


@pytest.mark.parametrize("keep", [0.9, 0.55, 0.15])
def test_truncated_file_is_named(tmp_path, capsys, keep):
    facts = _series(tmp_path)
    victim = facts["files"][3]
    data = victim.read_bytes()
    victim.write_bytes(data[: int(len(data) * keep)])
    line = _inspect_error(capsys, tmp_path / "s")
    assert f"{victim}: truncated" in line


def test_corrupt_pixel_data_is_named(tmp_path, capsys):
    facts = _series(tmp_path)
    _edit(facts["files"][1], PixelData=b"\x00" * 100)
    line = _inspect_error(capsys, tmp_path / "s")
    assert f"{facts['files'][1]}: pixel data cannot be decoded" in line


def test_missing_pixel_data(tmp_path, capsys):
    facts = _series(tmp_path)
    _edit(facts["files"][2], PixelData=None)
    line = _inspect_error(capsys, tmp_path / "s")
    assert "IM0002.dcm: has no pixel data" in line


def test_two_dimensional_inputs(tmp_path, capsys):
    facts = _series(tmp_path, n=1)
    assert "a single image (2D)" in _inspect_error(capsys, tmp_path / "s")
    assert "is one DICOM image (2D)" in _inspect_error(capsys, facts["files"][0])
    write_volume(tmp_path / "flat.nii.gz", np.zeros((8, 9, 1), np.float32), np.eye(4))
    assert "flat.nii.gz: has size (8, 9, 1): a 2D image" in _inspect_error(capsys, tmp_path / "flat.nii.gz")


def test_non_finite_voxels(tmp_path, capsys):
    facts = _series(tmp_path)
    _edit(facts["files"][4], RescaleSlope="1e39")
    assert f"{facts['files'][4]}: contains NaN or infinite pixel values" in _inspect_error(capsys, tmp_path / "s")
    array = np.ones((4, 5, 6), np.float32)
    array[1, 2, 3] = np.nan
    for name in ("nan.nii.gz", "nan.mha"):
        write_volume(tmp_path / name, array, np.eye(4))
        assert f"{name}: contains NaN or infinite voxel values" in _inspect_error(capsys, tmp_path / name)


@pytest.mark.parametrize("offsets, expected", [
    ([0, 4, 8, 16, 20, 24], "missing slice(s): a gap of 8.000 mm between IM0002.dcm and IM0003.dcm"),
    ([0, 4, 8, 11, 15, 19], "uneven slice spacing: steps from 3.000 to 4.000 mm"),
    ([0, 4, 8, 8, 12, 16], "duplicated slice position 8.000 mm from the first slice in IM0002.dcm and IM0003.dcm"),
])
def test_slice_spacing_problems(tmp_path, capsys, offsets, expected):
    _series(tmp_path, offsets_mm=offsets)
    assert expected in _inspect_error(capsys, tmp_path / "s")


def test_mixed_orientations_in_one_series_folder(tmp_path, capsys):
    uid = pydicom.uid.generate_uid()
    write_series(tmp_path / "s", image_values(4, 16, 20), iop=AXIAL_IOP, series_uid=uid, prefix="a", seed=1)
    write_series(tmp_path / "s", image_values(4, 16, 20), iop=tilted(AXIAL_IOP, 15, "x"), series_uid=uid,
                 origin=(0, 0, -40), prefix="b", seed=2)
    with pytest.raises(InputError, match=f"holds 2 series stacks; choose one with --series .*{uid}#1 .*{uid}#2 "):
        load_scan(tmp_path / "s")
    line = _inspect_error(capsys, "--series", uid, tmp_path / "s")
    assert f"series {uid} has 2 stacks of different orientation or echo" in line


def test_mismatched_image_sizes_and_sheared_stacks(tmp_path, capsys):
    facts = _series(tmp_path)
    _edit(facts["files"][5], PixelSpacing=[0.7, 0.7])
    assert "IM0005.dcm: PixelSpacing [0.7, 0.7] differs" in _inspect_error(capsys, tmp_path / "s")
    _edit(facts["files"][5], PixelSpacing=[0.5, 0.5], ImagePositionPatient=[-20.0 - 5 * 4.0, -27.0, 40.0])
    assert "IM0005.dcm: shifted 3.00 mm in-plane" in _inspect_error(capsys, tmp_path / "s")


def test_error_through_a_subprocess_is_one_line(tmp_path):
    facts = _series(tmp_path)
    facts["files"][0].write_bytes(facts["files"][0].read_bytes()[:-10])
    result = subprocess.run([sys.executable, "-m", "spinedet", "inspect", str(tmp_path / "s")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"{facts['files'][0]}: truncated or corrupt DICOM file" in result.stderr


def test_no_patient_identifier_reaches_any_output(tmp_path, capsys):
    write_series(tmp_path / "study" / "a", image_values(6, 16, 20), iop=tilted(SAGITTAL_IOP, 12, "y"))
    write_series(tmp_path / "study" / "b", image_values(5, 16, 20), iop=AXIAL_IOP, description="T2 ax")
    outputs = []
    for args in (["--json"], [], ["--json", "--series", "0"], ["--series", "1"], ["--series", "9"]):
        main(["inspect", *args, str(tmp_path / "study")])
        captured = capsys.readouterr()
        outputs += [captured.out, captured.err]
    scan = load_scan(tmp_path / "study", series="1")
    outputs += [repr(scan.meta), repr(scan.describe()), repr(scan.region), scan.source]
    text = "\n".join(outputs)
    assert "T2 ax" in text and "series_uid" in text  # the outputs are real
    for secret in (PATIENT_NAME, PATIENT_NAME.split("^")[0], PATIENT_ID, PATIENT_BIRTH_DATE):
        assert secret.lower() not in text.lower()


def test_multi_frame_and_colour_images_are_refused(tmp_path, capsys):
    facts = _series(tmp_path)
    _edit(facts["files"][0], NumberOfFrames=3)
    assert "IM0000.dcm: multi-frame (enhanced) DICOM with 3 frames is not supported" in _inspect_error(capsys, tmp_path / "s")
    _edit(facts["files"][0], NumberOfFrames=None, SamplesPerPixel=3)
    assert "IM0000.dcm: colour or multi-sample pixels" in _inspect_error(capsys, tmp_path / "s")


@pytest.mark.parametrize("fields, expected", [
    (dict(ImagePositionPatient=[1.0, 2.0]), "invalid ImagePositionPatient"),
    (dict(ImageOrientationPatient=[1, 0, 0, 1, 0, 0]),
     "ImageOrientationPatient [1.0, 0.0, 0.0, 1.0, 0.0, 0.0] is not two orthogonal unit vectors"),
    (dict(ImageOrientationPatient=[0, 0, 0, 0, 0, 0]),
     "ImageOrientationPatient [0.0, 0.0, 0.0, 0.0, 0.0, 0.0] is not two orthogonal unit vectors"),
    (dict(PixelSpacing=[0.0, 0.5]), "invalid PixelSpacing"),
])
def test_broken_plane_geometry_is_named(tmp_path, capsys, fields, expected):
    facts = _series(tmp_path)
    _edit(facts["files"][2], **fields)
    assert f"{facts['files'][2]}: {expected}" in _inspect_error(capsys, tmp_path / "s")
