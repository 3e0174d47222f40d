"""Disc-aligned crops on oblique, anisotropic, flipped scans: sampling, crop axes and boxes through one affine."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from spinedet.data.crops import (boxes_through, crop_affine, disc_frame, sample_crops, scan_directions,
                                 spine_normals)
from spinedet.data.level_crops import CropVolume, disc_crops, loss_frame, resampled_affine, world_boxes_in_frame
from spinedet.data.preprocess import resample
from spinedet.io import geometry
from spinedet.io.scan import Scan

CROP = {"spacing_mm": [3.5, 1.0, 1.2], "shape": [6, 20, 16], "offset_mm": [3.0, 10.0]}


def _scan(view: str, spacing, shape, euler_deg, flip_axes=()) -> Scan:
    """A canonical scan whose voxels hold a linear function of their LPS position (trilinear sampling is exact)."""
    rotation = Rotation.from_euler("xyz", euler_deg, degrees=True).as_matrix()
    affine = np.eye(4)
    affine[:3, :3] = rotation @ (geometry.CANONICAL_DIRECTIONS_LPS[view].T * np.asarray(spacing, float))
    affine[:3, 3] = [-15.0, -40.0, 30.0]
    for axis in flip_axes:  # stored flipped on disk: Scan.from_array must bring it back
        affine[:3, 3] += (shape[axis] - 1) * affine[:3, axis]
        affine[:3, axis] *= -1
    index = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1)
    world = geometry.voxel_to_world(index, affine)
    values = world @ np.array([0.3, -0.2, 0.5]) + 100.0
    return Scan.from_array(values.astype(np.float32), affine, slice_axis=0, view=view)


def _linear(world: np.ndarray) -> np.ndarray:
    return world @ np.array([0.3, -0.2, 0.5]) + 100.0


CASES = [("sagittal", (4.4, 0.7, 0.8), (14, 90, 80), [0, 12, -7], ()),
         ("sagittal", (3.3, 0.9, 0.9), (15, 80, 80), [0, 0, 0], (1, 2)),
         ("axial", (4.0, 0.6, 0.75), (22, 100, 90), [9, -5, 4], (0,))]


@pytest.mark.parametrize("view,spacing,shape,euler,flips", CASES)
def test_crop_samples_equal_the_scan_at_their_world_points(view, spacing, shape, euler, flips):
    scan = _scan(view, spacing, shape, euler, flips)
    centre = geometry.voxel_to_world((np.asarray(scan.shape) - 1) / 2, scan.affine)
    left, superior = scan_directions(scan.affine, view)
    frame = disc_frame(superior + np.array([0.0, 0.3, 0.0]), left)  # a disc tilted 17 deg in the sagittal plane
    affine = crop_affine(centre, frame, view, CROP["spacing_mm"], CROP["shape"], CROP["offset_mm"])
    crop = sample_crops(scan.array, np.linalg.inv(scan.affine) @ affine[None], CROP["shape"])[0].numpy()
    index = np.stack(np.meshgrid(*[np.arange(n) for n in CROP["shape"]], indexing="ij"), -1)
    world = geometry.voxel_to_world(index, affine)
    inside = np.all((geometry.world_to_voxel(world, scan.affine) >= 0)
                    & (geometry.world_to_voxel(world, scan.affine) <= np.asarray(scan.shape) - 1), axis=-1)
    assert inside.mean() > 0.9
    assert np.allclose(crop[inside], _linear(world[inside]), atol=2e-3)
    assert np.all(crop[~inside] <= _linear(world[~inside]) + 1e-3)  # zero padding outside (or a blend towards 0)


@pytest.mark.parametrize("view", ["sagittal", "axial"])
def test_upright_disc_crop_axes_are_the_views_canonical_axes(view):
    frame = disc_frame(np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]))
    assert np.allclose(frame["u"], [0.0, 1.0, 0.0])  # posterior
    affine = crop_affine(np.zeros(3), frame, view, CROP["spacing_mm"], CROP["shape"], CROP["offset_mm"])
    directions = affine[:3, :3] / np.asarray(CROP["spacing_mm"])
    assert np.allclose(directions.T, geometry.CANONICAL_DIRECTIONS_LPS[view])
    centre = geometry.voxel_to_world((np.asarray(CROP["shape"]) - 1) / 2, affine)
    assert np.allclose(centre, [0.0, 10.0, 3.0])  # 3 mm superior, 10 mm posterior of the disc centre


def test_tilted_disc_frame_is_orthonormal_and_right_handed_as_lps():
    frame = disc_frame(np.array([0.0, -0.5, 1.0]), np.array([0.98, 0.1, 0.05]))
    m = np.stack([frame["v"], frame["u"], frame["w"]])  # left, posterior, superior: as LPS x, y, z
    assert np.allclose(m @ m.T, np.eye(3)) and np.isclose(np.linalg.det(m), 1.0)
    assert np.allclose(frame["w"], np.array([0.0, -0.5, 1.0]) / np.linalg.norm([0.0, -0.5, 1.0]))


def test_spine_normals_follow_the_neighbours_and_point_up():
    centres = np.array([[0, 0, 100.0], [0, 10, 70.0], [0, 25, 40.0]])  # head to foot, curving backwards
    normals = spine_normals(centres, np.array([0, 0, 1.0]))
    assert np.allclose(normals[1], (centres[0] - centres[2]) / np.linalg.norm(centres[0] - centres[2]))
    assert np.all(normals[:, 2] > 0)
    assert np.allclose(spine_normals(centres[:1], np.array([0, 0, 1.0])), [[0, 0, 1.0]])


def test_boxes_through_equals_the_eight_corner_box_of_geometry():
    rng = np.random.default_rng(0)
    affines = np.stack([np.eye(4) for _ in range(3)])
    for a in affines:
        a[:3, :3] = Rotation.random(random_state=rng).as_matrix() * rng.uniform(0.5, 2.0, 3)
        a[:3, 3] = rng.normal(0, 30, 3)
    boxes = np.sort(rng.uniform(-5, 25, (3, 2, 2, 3)), axis=2).reshape(3, 2, 6)
    mapped = boxes_through(torch.tensor(boxes), torch.tensor(affines)).numpy()
    for k in range(3):
        for n in range(2):
            assert np.allclose(mapped[k, n], geometry.box_voxel_to_world(boxes[k, n], affines[k]))


def test_world_boxes_in_the_loss_frame_round_trip_through_the_crop():
    scan = _scan(*CASES[0])
    fine, factor = resample(scan.array, scan.spacing_mm, CROP["spacing_mm"])
    volume = CropVolume(fine, resampled_affine(scan.affine, factor), "sagittal")
    centre = geometry.voxel_to_world((np.asarray(scan.shape) - 1) / 2, scan.affine)
    made = disc_crops(volume, centre[None], CROP)
    truth = np.array([[centre[0] - 5, centre[1] + 4, centre[2] - 3, centre[0] + 6, centre[1] + 12, centre[2] + 5]])
    in_frame = world_boxes_in_frame(truth[None], made.crop_to_world, CROP)[0]
    # the truth's box in crop voxels, mapped through the loss frame, contains the truth's box in that frame
    crop_box = geometry.box_world_to_voxel(truth[0], made.crop_to_world[0])
    through = boxes_through(torch.tensor(crop_box[None, None]), torch.tensor(loss_frame(made.crop_to_world, CROP)))
    lo, hi = through[0, 0, :3].numpy(), through[0, 0, 3:].numpy()
    assert np.all(lo <= in_frame[0, :3] + 1e-9) and np.all(hi >= in_frame[0, 3:] - 1e-9)
    extent = np.max(np.asarray(CROP["shape"]) * np.asarray(CROP["spacing_mm"]))
    assert np.allclose(in_frame[0, 3:] - in_frame[0, :3], (truth[0, 3:] - truth[0, :3]) / extent)


def test_resampled_affine_matches_resample_voxel_centres():
    scan = _scan(*CASES[2])
    fine, factor = resample(scan.array, scan.spacing_mm, (2.0, 1.5, 1.5))
    affine = resampled_affine(scan.affine, factor)
    o = np.array([3, 10, 7])
    expected = geometry.voxel_to_world((o + 0.5) * factor - 0.5, scan.affine)
    assert np.allclose(geometry.voxel_to_world(o, affine), expected)
