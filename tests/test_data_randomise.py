"""Domain randomisation: each effect does what its name says, one draw serves a scan's stack of crops, and off is
off."""

import json

import numpy as np
import pytest

from spinedet.data.randomise import EFFECTS, check_options, ghosting, randomise, remap, resolution_loss, rician
from spinedet.errors import InputError
from spinedet.train.config import load_config

ALL_ON = {"remap": {"p": 1, "control_points": [4, 8]}, "resolution": {"p": 1, "factor": [2, 3]},
          "gibbs": {"p": 1, "alpha": [0.3, 0.6]}, "ghosting": {"p": 1, "ghosts": [2, 4], "intensity": [0.2, 0.4]},
          "rician": {"p": 1, "std": [0.02, 0.05]}}


def _volume(seed=0, shape=(9, 24, 20)):
    return np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32)


def test_remap_is_monotone():
    x = _volume()
    y = remap(x, np.random.default_rng(1), (4, 8))
    order = np.argsort(x, axis=None)
    assert np.all(np.diff(y.ravel()[order]) >= -1e-6)
    assert not np.allclose(x, y)


def test_resolution_loss_blurs_one_axis_only():
    profile = np.random.default_rng(1).uniform(0, 1, 24).astype(np.float32)
    x = np.broadcast_to(profile[None, :, None], (9, 24, 20)).copy()  # varies along axis 1 only
    outcomes = set()
    for seed in range(12):
        y = resolution_loss(x, np.random.default_rng(seed), (3.0, 3.0))
        assert y.shape == x.shape
        if np.allclose(y, x, atol=1e-6):
            outcomes.add("another axis")  # coarser along an axis the volume does not vary on: no change
        else:
            assert np.abs(np.diff(y, axis=1)).mean() < 0.6 * np.abs(np.diff(x, axis=1)).mean()
            assert np.allclose(y, y[:1, :, :1], atol=1e-6)  # still constant along the other two axes
            outcomes.add("this axis")
    assert outcomes == {"another axis", "this axis"}
    flat = np.full((9, 24, 20), 0.7, np.float32)
    assert np.allclose(resolution_loss(flat, np.random.default_rng(2), (2.0, 3.0)), 0.7, atol=1e-6)


def test_ghosting_repeats_the_image_along_a_phase_axis():
    x = np.zeros((4, 32, 32), np.float32)
    x[:, 4:8, 4:8] = 1.0
    rng = np.random.default_rng(3)
    y = ghosting(x, rng, (4, 4), (0.5, 0.5))
    ghost_rows = y[0, 4:8, 12:16].mean()  # a ghost of a 4-fold pattern lies 32 / 4 = 8 voxels along the axis
    ghost_cols = y[0, 12:16, 4:8].mean()
    assert max(ghost_rows, ghost_cols) > 0.05
    assert min(ghost_rows, ghost_cols) < 1e-3  # only one axis is the phase-encode axis
    assert y[0, 4:8, 4:8].mean() > 0.7


def test_rician_noise_of_an_empty_image_has_the_rayleigh_mean():
    y = rician(np.zeros((8, 64, 64), np.float32), np.random.default_rng(4), (0.1, 0.1))
    assert y.min() >= 0
    assert abs(y.mean() - 0.1 * np.sqrt(np.pi / 2)) < 0.003


def test_one_draw_serves_every_crop_of_a_stack():
    crop = _volume(5)
    stack = np.stack([crop, crop, crop])
    out = randomise(stack, np.random.default_rng(6), ALL_ON)
    assert out.shape == stack.shape and out.dtype == np.float32 and np.isfinite(out).all()
    assert not np.allclose(out[0], crop)
    # rician noise is drawn per voxel; without it, identical crops stay identical
    calm = randomise(stack, np.random.default_rng(6), {k: v for k, v in ALL_ON.items() if k != "rician"})
    assert np.allclose(calm[0], calm[1]) and np.allclose(calm[1], calm[2])


def test_same_seed_same_result_and_off_is_off():
    x = _volume(7)
    a = randomise(x, np.random.default_rng(8), ALL_ON)
    b = randomise(x, np.random.default_rng(8), ALL_ON)
    assert np.array_equal(a, b)
    rng = np.random.default_rng(8)
    assert np.array_equal(randomise(x, rng, {}), x)
    assert rng.random() == np.random.default_rng(8).random()  # off draws nothing: training without it is unchanged
    assert np.array_equal(randomise(x, np.random.default_rng(8), {k: {**v, "p": 0} for k, v in ALL_ON.items()}), x)
    assert set(ALL_ON) == set(EFFECTS)
    check_options(ALL_ON)  # the settings these tests use are a valid config


@pytest.mark.parametrize("options, message", [({"blur": {"p": 1}}, "unknown effect 'blur'"),
                                              ({"gibbs": {"p": 2, "alpha": [0, 1]}}, "gibbs needs p in"),
                                              ({"rician": {"p": 0.5}}, "rician needs p in .*'std'")])
def test_a_config_with_a_wrong_effect_is_refused_naming_it(tmp_path, options, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"model": {}, "input": {}, "train": {"randomise": options}}))
    with pytest.raises(InputError, match=message):
        load_config(str(path))
