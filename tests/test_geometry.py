"""Canonical orientation and world <-> voxel conversion on flipped, permuted, oblique, anisotropic inputs."""

import itertools

import numpy as np
import pytest
import SimpleITK as sitk
from scipy.spatial.transform import Rotation

from spinedet.io import geometry
from spinedet.io.image_file import read_volume, write_volume
from spinedet.io.scan import Scan

SPACING = np.array([0.5, 0.5, 4.0])


def _affine(direction: np.ndarray, spacing: np.ndarray, origin=(-12.0, 30.5, 101.0)) -> np.ndarray:
    a = np.eye(4)
    a[:3, :3] = direction * spacing
    a[:3, 3] = origin
    return a


def _all_signed_permutations():
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            yield np.eye(3)[:, perm] * np.array(signs)


@pytest.mark.parametrize("direction", list(_all_signed_permutations()))
@pytest.mark.parametrize("view", ["sagittal", "axial"])
def test_canonical_keeps_world_positions(direction, view):
    rng = np.random.default_rng(0)
    shape = (5, 6, 7)
    array = rng.normal(size=shape).astype(np.float32)
    affine = _affine(direction, SPACING)
    canon, canon_affine = geometry.to_canonical(array, affine, view)
    # every canonical voxel holds the value of the original voxel at the same world position
    idx = np.argwhere(np.ones(canon.shape, bool))
    world = geometry.voxel_to_world(idx, canon_affine)
    orig_idx = np.rint(geometry.world_to_voxel(world, affine)).astype(int)
    assert np.allclose(geometry.voxel_to_world(orig_idx, affine), world, atol=1e-9)
    assert np.array_equal(canon[tuple(idx.T)], array[tuple(orig_idx.T)])
    # canonical axes point along the view's directions
    dirs = canon_affine[:3, :3] / geometry.spacing_of(canon_affine)
    assert np.allclose(dirs.T, geometry.CANONICAL_DIRECTIONS_LPS[view])


@pytest.mark.parametrize("tilt_deg", [10.0, 20.0, 30.0])
@pytest.mark.parametrize("direction", list(_all_signed_permutations())[::5])
def test_oblique_stack_view_tilt_and_round_trip(tilt_deg, direction):
    rotation = Rotation.from_rotvec(np.radians(tilt_deg) * np.array([0.0, 1.0, 0.0])).as_matrix()
    base = np.eye(3)[:, [1, 2, 0]] * np.array([1, -1, 1])  # array axes: P, -S, L; slices along L -> sagittal
    direction_rot = rotation @ (base @ direction)
    array = np.zeros((4, 9, 11), np.float32)
    spacing_by_axis = np.array([0.5, 0.5, 0.5])
    spacing_by_axis[np.argmax(np.abs(direction_rot[0, :]))] = 4.0  # thick slices along the near-L axis
    affine = _affine(direction_rot, spacing_by_axis)
    scan = Scan.from_array(array, affine)
    assert scan.view == "sagittal"
    assert scan.tilt_deg == pytest.approx(tilt_deg, abs=1e-6)
    assert scan.spacing_mm[0] == pytest.approx(4.0)
    points = np.random.default_rng(1).uniform(-50, 50, size=(20, 3))
    back = geometry.voxel_to_world(geometry.world_to_voxel(points, scan.affine), scan.affine)
    assert np.abs(back - points).max() < 1e-4


def test_box_conversion_bounds_all_corners_and_round_trips_axis_aligned():
    affine = _affine(np.eye(3)[:, [2, 0, 1]] * np.array([-1, 1, -1]), SPACING)
    box_voxel = np.array([2.5, 3.5, 0.5, 5.5, 7.5, 2.5])
    box_lps = geometry.box_voxel_to_world(box_voxel, affine)
    assert np.all(box_lps[:3] < box_lps[3:])
    assert np.allclose(geometry.box_world_to_voxel(box_lps, affine), box_voxel, atol=1e-9)
    extents = np.sort(box_lps[3:] - box_lps[:3])
    assert np.allclose(extents, np.sort((box_voxel[3:] - box_voxel[:3]) * SPACING))


def test_box_of_oblique_grid_contains_every_corner():
    rotation = Rotation.from_euler("xyz", [15, -20, 25], degrees=True).as_matrix()
    affine = _affine(rotation, SPACING)
    box_voxel = np.array([1.5, 2.5, 0.5, 4.5, 6.5, 3.5])
    box_lps = geometry.box_voxel_to_world(box_voxel, affine)
    corners = geometry.voxel_to_world(geometry.box_corners(box_voxel), affine)
    assert np.all(corners >= box_lps[:3] - 1e-9) and np.all(corners <= box_lps[3:] + 1e-9)


def test_voxel_box_of_mask_uses_voxel_edges():
    mask = np.zeros((8, 8, 8), bool)
    mask[3:6, 2, 4:5] = True
    assert list(geometry.voxel_box_of_mask(mask)) == [2.5, 1.5, 3.5, 5.5, 2.5, 4.5]


@pytest.mark.parametrize("suffix", [".nii.gz", ".mha", ".nrrd"])
def test_world_positions_agree_with_simpleitk(tmp_path, suffix):
    rotation = Rotation.from_euler("xyz", [12, -25, 8], degrees=True).as_matrix()
    direction = rotation @ (np.eye(3)[:, [1, 2, 0]] * np.array([-1, -1, 1]))
    affine = _affine(direction, np.array([0.6, 0.7, 3.5]))
    array = np.random.default_rng(2).normal(size=(10, 12, 6)).astype(np.float32)
    path = tmp_path / f"oblique{suffix}"
    write_volume(path, array, affine)
    read_array, read_affine = read_volume(path)
    assert np.array_equal(read_array, array)
    scan = Scan.from_array(read_array, read_affine)
    image = sitk.ReadImage(str(path))
    for canonical_index in [(0, 0, 0), (1.5, 2.25, 3.0), (2, 7, 4), tuple(np.array(scan.shape) - 1)]:
        ours = geometry.voxel_to_world(np.array(canonical_index, float), scan.affine)
        original = geometry.world_to_voxel(ours, read_affine)
        theirs = image.TransformContinuousIndexToPhysicalPoint([float(v) for v in original])
        assert np.allclose(ours, theirs, atol=1e-4)
        if all(float(v).is_integer() for v in canonical_index):
            original_int = tuple(int(v) for v in np.rint(original))
            assert scan.array[tuple(int(v) for v in canonical_index)] == read_array[original_int]
