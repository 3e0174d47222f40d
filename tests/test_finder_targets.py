"""The level finder's dense targets: each disc's peak region carries its level, and a training window that holds no
disc (a field of view cut, a window placed off the spine) is all background; how often a window's view is cut."""

import numpy as np

from spinedet.data.level_targets import finder_targets

GRID, STRIDE = (4, 8, 8), (2, 4, 4)


def test_a_window_without_discs_is_all_background():
    t = finder_targets(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0, int), GRID, STRIDE)
    assert t.heatmap.shape == GRID and t.heatmap.max() == 0.0
    assert (t.level_map == -1).all() and t.level_weight.max() == 0.0 and t.peaks.shape == (0, 3)


def test_each_discs_peak_region_carries_its_level():
    centres = np.array([[4.0, 8.0, 8.0], [4.0, 24.0, 8.0]])  # input voxels: output voxels (2, 2, 2) and (2, 6, 2)
    t = finder_targets(centres, np.full((2, 3), 8.0), np.array([17, 18]), GRID, STRIDE)
    assert t.peaks.tolist() == [[2, 2, 2], [2, 6, 2]] and t.heatmap[2, 2, 2] == t.heatmap[2, 6, 2] == 1.0
    assert t.level_map[2, 2, 2] == 17 and t.level_map[2, 6, 2] == 18
    assert t.level_map[0, 4, 7] == -1 and t.level_weight[0, 4, 7] == 0.0  # far from both: no level target


def test_the_field_of_view_cut_is_set_per_view_or_for_all():
    from spinedet.train.config import load_config
    from spinedet.train.level_task import LevelTask, view_value

    classes = ["herniation", "bulge", "degenerated_disc", "stenosis", "disc"]
    small = load_config("small")
    assert LevelTask(small, classes, "lumbar", "axial").fov_cut == 1.0  # short axial stacks: always cut
    assert LevelTask(small, classes, "cervical", "sagittal").fov_cut == 0.5
    assert view_value(0.3, "axial") == view_value({"axial": 0.3}, "axial") == 0.3
