"""In-plane rotation and zoom move each box with its voxels: off-centre cubes stay inside their enclosing boxes."""

import numpy as np
import pytest

from spinedet.data.augment import rotate_and_scale, transform_boxes
from spinedet.io import geometry


def _cubes(shape=(6, 80, 64)):
    """A volume with two bright off-centre blocks and their voxel-corner boxes."""
    array = np.zeros(shape, np.float32)
    blocks = [(slice(1, 4), slice(8, 20), slice(40, 60)), (slice(2, 6), slice(50, 70), slice(6, 14))]
    boxes = []
    for block in blocks:
        mask = np.zeros(shape, bool)
        mask[block] = True
        array[mask] = 1.0
        boxes.append(geometry.voxel_box_of_mask(mask))
    return array, np.array(boxes)


@pytest.mark.parametrize("seed", range(6))
def test_rotated_blocks_stay_in_their_boxes_and_fill_them(seed):
    array, boxes = _cubes()
    out, moved = rotate_and_scale(array, boxes, np.random.default_rng(seed), max_deg=15, max_scale=0.15)
    assert out.shape == array.shape and out.dtype == np.float32
    for n, box in enumerate(moved):
        assert np.allclose(box[[0, 3]], boxes[n][[0, 3]])  # the slice axis is untouched
        other = moved[1 - n]
        bright = np.argwhere(out > 0.5)
        bright = bright[~np.all((bright >= other[:3] - 0.5) & (bright <= other[3:] + 0.5), axis=1)]  # this block only
        assert len(bright)
        assert np.all(bright >= box[:3] - 0.5) and np.all(bright <= box[3:] + 0.5)  # inside its box
        tight = np.concatenate([bright.min(axis=0) - 0.5, bright.max(axis=0) + 0.5])
        assert np.all(np.abs(tight - box) <= 1.5)  # and the box is not loose (a rotated block touches its box's sides)


def test_no_rotation_no_zoom_is_the_identity():
    array, boxes = _cubes()
    out, moved = rotate_and_scale(array, boxes, np.random.default_rng(0), max_deg=0, max_scale=0)
    assert np.allclose(out, array, atol=1e-6) and np.allclose(moved, boxes)


def test_quarter_turn_of_a_box_by_hand():
    box = np.array([[0.0, 10.0, 20.0, 2.0, 14.0, 30.0]])  # rows 10-14, columns 20-30, about centre (1, 20, 20)
    turn = np.eye(3)
    turn[1:, 1:] = [[0, -1], [1, 0]]  # row' = -(col - 20) + 20, col' = (row - 20) + 20
    assert np.allclose(transform_boxes(box, turn, np.array([1.0, 20.0, 20.0])), [[0, 10, 10, 2, 20, 14]])


@pytest.mark.parametrize("angle_deg", [-15.0, -6.0, 9.0, 15.0])
def test_a_tilted_window_keeps_each_point_on_its_voxels_in_mm(angle_deg):
    """tilt_window turns rigidly in mm on an anisotropic grid (3 mm slices, 2 mm rows): a bright block's centre
    of mass lands on its mapped point, and its extents become those of the turned box."""
    from spinedet.data.augment import tilt_window

    spacing = (3.0, 2.0, 2.0)
    array = np.zeros((24, 40, 8), np.float32)
    array[14:17, 24:29, 2:6] = 1.0  # 9 mm x 10 mm x 8 mm off centre
    point, extent = np.array([[15.0, 26.0, 3.5]]), np.array([[3.0, 5.0, 4.0]])
    out, moved, extents = tilt_window(array, point, extent, angle_deg, (0, 1), spacing)
    mass = np.argwhere(out > 0).T @ out[out > 0] / out.sum()
    assert np.allclose(mass, moved[0], atol=0.15)
    assert moved[0, 2] == 3.5 and extents[0, 2] == 4.0  # the left-right axis is untouched
    t = np.radians(abs(angle_deg))  # the turned box in mm: |R| applied to 9 x 10 mm
    assert np.allclose(extents[0, :2] * spacing[:2], [9 * np.cos(t) + 10 * np.sin(t), 9 * np.sin(t) + 10 * np.cos(t)])
    offset_mm = (moved[0] - (np.array(array.shape) - 1) / 2) * spacing
    before_mm = (point[0] - (np.array(array.shape) - 1) / 2) * spacing
    assert np.isclose(np.linalg.norm(offset_mm), np.linalg.norm(before_mm))  # rigid in mm
    assert np.isclose(np.degrees(np.arctan2(offset_mm[1], offset_mm[0]) - np.arctan2(before_mm[1], before_mm[0])),
                      angle_deg)
