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
    assert LevelTask(small, classes, "lumbar", "axial").cut_moves  # measured to help axial, not sagittal
    assert not LevelTask(small, classes, "lumbar", "sagittal").cut_moves
    assert LevelTask(small, classes, "lumbar", "axial").tilt_deg == 8.0  # C5's angled stacks; measured, docs/model.md
    assert LevelTask(small, classes, "cervical", "sagittal").tilt_deg == 0.0
    assert view_value(0.3, "axial") == view_value({"axial": 0.3}, "axial") == 0.3


def test_what_a_cut_leaves_moves_with_its_discs():
    from spinedet.train.level_batches import finder_window

    volume = np.zeros((26, 4, 4), np.float32)  # an axial volume (superior axis first) shorter than its window
    disc_rows = np.array([6, 15, 23])
    volume[disc_rows] = np.array([1.0, 2.0, 3.0])[:, None, None]  # each disc's plane marked with its own value
    rng = np.random.default_rng(0)
    tops = set()
    for _ in range(200):
        array, start, keep = finder_window(volume, (32, 4, 4), "axial", rng, 1.0, cut_moves=True)
        rows = disc_rows - start[0]
        for value, row in zip((1.0, 2.0, 3.0), rows):
            in_view = 0 <= row < 32 and keep[row]
            assert (array == value).any() == in_view
            if in_view:
                assert (array[row] == value).all()  # the target row is where the disc's plane went
        assert (array[~keep] == 0).all()
        tops.add(int(np.flatnonzero(keep)[0]))
    assert len(tops) > 10  # the kept rows start anywhere in the window, not only where the cut left them
