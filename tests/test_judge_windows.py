"""Judge training windows: runs of neighbouring discs that hold a chosen finding, their crops oriented as a whole
scan's are, class-balanced draws of findings, gradient clipping per part of the level design and the grade head's
learning rate."""

import numpy as np
import pytest
import torch

from spinedet.data.level_crops import CropVolume, crop_affines
from spinedet.data.level_targets import LevelTruth
from spinedet.io.geometry import CANONICAL_DIRECTIONS_LPS
from spinedet.train.level_batches import FindingIndex
from model_configs import micro_config
from spinedet.data.dataset import DISC_CLASS, DISEASE_CLASSES
from spinedet.model.build import build_model
from spinedet.train.loop import clip_groups, lr_groups

CLASSES = [*DISEASE_CLASSES, DISC_CLASS]
CROP = {"spacing_mm": [3.5, 1.25, 1.25], "shape": [8, 20, 24], "offset_mm": [0.0, 7.0]}


def _truth(n_discs: int, findings: dict[int, list[int]], n_classes: int = 2) -> LevelTruth:
    """A scan of `n_discs` discs with class c present at the discs `findings[c]` lists."""
    presence = np.zeros((n_discs, n_classes))
    for c, discs in findings.items():
        presence[discs, c] = 1.0
    boxes = np.zeros((n_discs, 6))
    return LevelTruth(np.arange(n_discs), boxes, presence, np.zeros((n_discs, n_classes, 6)),
                      np.ones((n_discs, n_classes)), -np.ones((n_discs, n_classes), int))


def test_window_holds_its_focus_and_stays_inside_the_scan():
    truth = _truth(7, {})
    rng = np.random.default_rng(0)
    for focus in range(7):
        starts = set()
        for _ in range(60):
            window = truth.window(3, rng, focus)
            assert window.stop - window.start == 3 and 0 <= window.start and window.stop <= 7
            assert window.start <= focus < window.stop
            starts.add(window.start)
        assert starts == set(range(max(0, focus - 2), min(4, focus) + 1))  # every run holding it occurs
    assert truth.window(9, rng, 4) == slice(0, 7)
    assert truth.part(slice(2, 4)).levels.tolist() == [2, 3]


def test_window_crops_are_oriented_by_the_whole_scans_discs():
    """A window's crop axes are those the whole scan gives its discs (each disc's normal comes from its neighbours,
    which a window would otherwise cut off at its ends), as at inference."""
    affine = np.eye(4)
    affine[:3, :3] = CANONICAL_DIRECTIONS_LPS["sagittal"].T * np.array([3.0, 0.9, 0.9])
    volume = CropVolume(np.zeros((10, 200, 200), np.float32), affine, "sagittal")
    angles = np.deg2rad([0, 8, 20, 35, 50, 60])  # a lordotic curve, head to foot
    centres = np.stack([np.zeros(6), 40 * np.sin(angles), 60 - 35 * np.arange(6)], 1)
    whole = crop_affines(volume, centres, CROP)
    for window in (slice(0, 2), slice(2, 4), slice(4, 6)):
        np.testing.assert_allclose(crop_affines(volume, centres, CROP, window=window), whole[window], atol=1e-9)
    assert not np.allclose(crop_affines(volume, centres[0:2], CROP)[1], whole[1])  # cut off, the end disc turns


def test_finding_index_draws_each_class_evenly_around_its_findings():
    common = [_truth(5, {0: [1, 2, 3]}) for _ in range(20)]
    rare = _truth(5, {1: [4]})
    index = FindingIndex(common + [rare, _truth(0, {})])
    rng = np.random.default_rng(1)
    draws = index.draw(2000, rng, focus_p=1.0)
    truths = common + [rare]
    assert all(truths[scan].presence[disc].any() for scan, disc in draws)
    at_rare = sum((scan, disc) == (20, 4) for scan, disc in draws) / len(draws)
    assert 0.45 < at_rare < 0.55  # one class of two, though it is 1 finding among 61
    unfocused = index.draw(500, rng, focus_p=0.0)
    assert all(disc is None for _, disc in unfocused)
    assert {scan for scan, _ in unfocused} == set(range(21))  # never the scan without discs


def test_finding_index_ignores_unlabelled_pairs():
    truth = _truth(3, {0: [1]})
    truth.labelled[1, 0] = 0.0
    index = FindingIndex([truth])
    assert all(disc is None for _, disc in index.draw(50, np.random.default_rng(2), focus_p=1.0))


def test_clip_groups_clip_the_finder_the_judge_and_the_grade_head_apart():
    config = micro_config()
    config["judge"]["grade_head"] = True
    model = build_model(config, CLASSES, "lumbar", "sagittal")
    model.judge.presence.bias.requires_grad_(False)
    finder, judge, grade = clip_groups(model)
    assert [id(p) for p in finder] == [id(p) for p in model.finder.parameters()]
    assert [id(p) for p in grade] == [id(p) for p in model.judge.grade_parameters()] and grade
    assert {id(p) for p in judge} == ({id(p) for p in model.judge.parameters()} - {id(p) for p in grade}
                                      - {id(model.judge.presence.bias)})
    config["judge"]["grade_head"] = False
    assert len(clip_groups(build_model(config, CLASSES, "lumbar", "sagittal"))) == 2
    assert [len(g) for g in clip_groups(torch.nn.Linear(3, 2))] == [2]


def test_the_grade_head_learns_at_its_own_rate():
    config = micro_config(lr=0.002, grade_lr_scale=10.0)
    config["judge"]["grade_head"] = True
    model = build_model(config, CLASSES, "lumbar", "sagittal")
    rest, grade = lr_groups(model, config["train"])
    assert "lr" not in rest and grade["lr"] == pytest.approx(0.02)
    assert [id(p) for p in grade["params"]] == [id(p) for p in model.judge.grade_parameters()]
    assert len(rest["params"]) + len(grade["params"]) == len(list(model.parameters()))
    config["judge"]["grade_head"] = False
    assert len(lr_groups(build_model(config, CLASSES, "lumbar", "sagittal"), config["train"])) == 1
