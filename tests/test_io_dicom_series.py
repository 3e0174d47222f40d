"""A DICOM series folder loads with the same world geometry and values as SimpleITK's series reader."""

import json

import numpy as np
import pytest
import SimpleITK as sitk

from dicom_fixtures import AXIAL_IOP, SAGITTAL_IOP, image_values, tilted, write_series
from spinedet.cli import main
from spinedet.io import geometry
from spinedet.io.load import load_scan


def _sitk_series(folder):
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def _assert_matches_sitk(scan_array, affine, image):
    """Every canonical voxel lies on an integer SimpleITK index with the same value, and corners agree in mm."""
    sitk_array = sitk.GetArrayFromImage(image).transpose(2, 1, 0)  # indexed [i, j, k] like the ITK index
    idx = np.argwhere(np.ones(scan_array.shape, bool))
    world = geometry.voxel_to_world(idx, affine)
    sitk_idx = np.array([image.TransformPhysicalPointToContinuousIndex(tuple(map(float, w))) for w in world])
    assert np.allclose(sitk_idx, np.round(sitk_idx), atol=1e-3)
    sitk_idx = np.round(sitk_idx).astype(int)
    assert np.array_equal(scan_array[tuple(idx.T)], sitk_array[tuple(sitk_idx.T)])
    corner = np.array(scan_array.shape) - 1
    for voxel in ([0, 0, 0], corner, [0.5, 2.25, 3.75]):
        ours = geometry.voxel_to_world(np.asarray(voxel, float), affine)
        theirs_idx = image.TransformPhysicalPointToContinuousIndex(tuple(map(float, ours)))
        assert np.allclose(image.TransformContinuousIndexToPhysicalPoint(theirs_idx), ours, atol=1e-4)


@pytest.mark.parametrize(
    "iop, degrees, axis, view",
    [
        (SAGITTAL_IOP, 0.0, "z", "sagittal"),
        (SAGITTAL_IOP, 17.0, "z", "sagittal"),
        (SAGITTAL_IOP, -28.0, "y", "sagittal"),
        (AXIAL_IOP, 12.0, "x", "axial"),
        (AXIAL_IOP, 25.0, "y", "axial"),
    ],
)
def test_shuffled_oblique_anisotropic_series_agrees_with_simpleitk(tmp_path, iop, degrees, axis, view):
    values = image_values(9, 16, 20)
    facts = write_series(tmp_path / "series", values, iop=tilted(iop, degrees, axis), pixel_spacing=(0.5, 0.6),
                         slice_step_mm=4.0, shuffle=True, description=f"T2 {view}")
    scan = load_scan(tmp_path / "series")
    assert scan.view == view
    assert scan.tilt_deg == pytest.approx(abs(degrees), abs=1e-3)
    assert sorted(scan.spacing_mm) == pytest.approx([0.5, 0.6, 4.0], abs=1e-5)
    assert scan.meta["series_uid"] == facts["series_uid"]
    _assert_matches_sitk(scan.array, scan.affine, _sitk_series(tmp_path / "series"))


def test_slices_follow_position_not_instance_number_or_file_name(tmp_path):
    values = image_values(7, 16, 20)
    write_series(tmp_path / "s", values, iop=AXIAL_IOP, slice_step_mm=3.0, shuffle=True)
    scan = load_scan(tmp_path / "s")
    # axial canonical slices go superior -> inferior; the fixture stacks slices along +normal (+z, superior)
    assert np.array_equal(scan.array, values[::-1].astype(np.float32))
    assert scan.affine[2, 0] == pytest.approx(-3.0)


def test_rescale_slope_and_intercept_are_applied_per_slice(tmp_path):
    values = image_values(6, 16, 20)
    slopes = [1.0, 2.0, 0.5, 1.5, 3.0, 0.25]
    facts = write_series(tmp_path / "s", values, iop=SAGITTAL_IOP, slopes=slopes)
    scan = load_scan(tmp_path / "s")
    # the fixture's sagittal normal points patient right (-x); canonical slices go right to left
    assert scan.affine[0, 0] == pytest.approx(4.0)
    assert np.allclose(scan.array, facts["values"][::-1])


def test_inspect_json_gives_simpleitk_world_coordinates(tmp_path, capsys):
    values = image_values(8, 16, 20)
    write_series(tmp_path / "s", values, iop=tilted(SAGITTAL_IOP, 21.0, "y"), pixel_spacing=(0.5, 0.5), shuffle=True)
    assert main(["inspect", "--json", str(tmp_path / "s")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["view"] == "sagittal" and info["tilt_deg"] == pytest.approx(21.0, abs=1e-3)
    assert info["shape"] == [8, 16, 20]
    assert info["spacing_mm"] == pytest.approx([4.0, 0.5, 0.5], abs=1e-5)
    image = _sitk_series(tmp_path / "s")
    affine = np.array(info["affine"])
    for voxel in np.argwhere(np.ones(info["shape"], bool))[::37]:
        ours = geometry.voxel_to_world(voxel.astype(float), affine)
        itk_index = image.TransformPhysicalPointToContinuousIndex(tuple(map(float, ours)))
        assert np.allclose(itk_index, np.round(itk_index), atol=1e-3)
        assert np.allclose(image.TransformContinuousIndexToPhysicalPoint(itk_index), ours, atol=1e-4)
    # the canonical corners are the corners of SimpleITK's grid
    size = np.array(image.GetSize()) - 1
    sitk_corners = {tuple(np.round(image.TransformContinuousIndexToPhysicalPoint(tuple(map(float, c))), 3))
                    for c in np.array(np.meshgrid(*[[0, s] for s in size])).T.reshape(-1, 3)}
    our_corners = {tuple(np.round(geometry.voxel_to_world(np.array(c, float), affine), 3))
                   for c in np.array(np.meshgrid(*[[0, s - 1] for s in info["shape"]])).T.reshape(-1, 3)}
    assert our_corners == sitk_corners
