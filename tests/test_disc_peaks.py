"""Disc candidates from the finder's heatmap: none above the floor is an empty set, not an error."""

import torch

from spinedet.data.levels import ALL_LEVELS
from spinedet.infer.disc_peaks import disc_peaks


def _out(heat_logits: torch.Tensor) -> dict:
    grid = heat_logits.shape
    return {"heatmap": heat_logits[None, None], "offset": torch.zeros(1, 3, *grid), "size": torch.zeros(1, 3, *grid),
            "level": torch.zeros(1, len(ALL_LEVELS), *grid)}


def test_no_peak_above_the_floor_gives_no_candidates():
    found = disc_peaks(_out(torch.full((4, 6, 6), -9.0)), (2, 4, 4), 0.1, 24)
    assert found.scores.shape == (0,) and found.centres.shape == (0, 3) and found.boxes.shape == (0, 6)
    assert found.level_probs.shape == (0, len(ALL_LEVELS))


def test_one_peak_lands_at_its_voxel_times_the_stride():
    heat = torch.full((4, 6, 6), -9.0)
    heat[1, 2, 3] = 3.0
    found = disc_peaks(_out(heat), (2, 4, 4), 0.1, 24)
    assert found.centres.tolist() == [[2.0, 8.0, 12.0]] and found.boxes.tolist() == [[1.5, 7.5, 11.5, 2.5, 8.5, 12.5]]
