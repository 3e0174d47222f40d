"""Preprocessing and box conversions: a box survives scan voxels -> model voxels -> scan voxels -> LPS."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from spinedet.data.augment import clip_boxes, flip_boxes
from spinedet.data.preprocess import prepare
from spinedet.infer.predictor import model_boxes_to_scan, scan_boxes_to_model
from spinedet.io import geometry
from spinedet.io.scan import Scan
from spinedet.model.box_ops import (cxcyczdhw_to_corners, normalised_to_voxel, pairwise_giou,
                                    voxel_to_normalised)


def _oblique_scan(spacing=(4.4, 0.7, 0.7), shape=(14, 300, 260)) -> Scan:
    rotation = Rotation.from_euler("xyz", [0, 12, -7], degrees=True).as_matrix()
    affine = np.eye(4)
    affine[:3, :3] = rotation @ (geometry.CANONICAL_DIRECTIONS_LPS["sagittal"].T * np.array(spacing))
    affine[:3, 3] = [-20.0, -80.0, 60.0]
    return Scan.from_array(np.zeros(shape, np.float32), affine, slice_axis=0, view="sagittal")


def test_bright_cube_lands_on_its_model_box():
    scan = _oblique_scan()
    box_scan = np.array([4.5, 120.5, 100.5, 8.5, 160.5, 150.5])  # voxels 5..8, 121..160, 101..150
    scan.array[5:9, 121:161, 101:151] = 100.0
    inp = prepare(scan, (4.0, 2.5, 2.5), (16, 96, 64))
    box_model = scan_boxes_to_model(box_scan[None], inp.model_to_scan)[0]
    inside = inp.array[tuple(slice(int(np.ceil(lo + 0.5)), int(np.floor(hi - 0.5)) + 1)
                             for lo, hi in zip(box_model[:3] + 1, box_model[3:] - 1))]
    assert inside.size > 0 and inside.min() > 0.5  # well inside the box: bright
    outside = inp.array.copy()
    lo = np.floor(box_model[:3] - 1).astype(int)
    hi = np.ceil(box_model[3:] + 2).astype(int)
    outside[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = 0
    assert outside.max() < 0.05  # nothing bright beyond a voxel of blur around it
    back = model_boxes_to_scan(box_model[None], inp.model_to_scan)[0]
    assert np.allclose(back, box_scan, atol=1e-6)
    lps = geometry.box_voxel_to_world(back, scan.affine)
    assert np.allclose(lps, geometry.box_voxel_to_world(box_scan, scan.affine), atol=1e-4)


def test_normalised_boxes_round_trip_and_span_the_volume():
    shape = (16, 96, 64)
    corners = np.array([[-0.5, -0.5, -0.5, 15.5, 95.5, 63.5], [2.0, 10.25, 3.5, 6.0, 20.0, 9.5]])
    normalised = voxel_to_normalised(corners, shape)
    assert np.allclose(normalised[0], [0.5, 0.5, 0.5, 1, 1, 1])
    assert np.allclose(normalised_to_voxel(normalised, shape), corners)


def test_flip_and_clip_keep_boxes_on_their_voxels():
    mask = np.zeros((10, 12, 14), bool)
    mask[2:5, 3:7, 9:12] = True
    box = geometry.voxel_box_of_mask(mask)[None]
    for axis in range(3):
        assert np.allclose(flip_boxes(box, axis, mask.shape[axis])[0], geometry.voxel_box_of_mask(np.flip(mask, axis)))
    boxes = np.array([[-3.5, 0, 0, 1.5, 2, 2], [-5.5, 0, 0, -0.5, 2, 2], [1, 1, 1, 3, 3, 3]], float)
    kept, labels = clip_boxes(boxes, np.array([0, 1, 2]), (10, 12, 14))
    assert labels.tolist() == [2]  # the first keeps 2/5 of its volume, the second none
    assert np.allclose(kept[0], boxes[2])


def test_giou_of_identical_disjoint_and_nested_boxes():
    a = torch.tensor([[0.5, 0.5, 0.5, 0.2, 0.2, 0.2]])
    b = torch.tensor([[0.5, 0.5, 0.5, 0.2, 0.2, 0.2], [0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [0.5, 0.5, 0.5, 0.1, 0.1, 0.1]])
    g = pairwise_giou(cxcyczdhw_to_corners(a), cxcyczdhw_to_corners(b))[0]
    assert float(g[0]) == pytest.approx(1.0, abs=1e-6)
    assert g[1] < 0
    assert float(g[2]) == pytest.approx(1 / 8, abs=1e-6)
