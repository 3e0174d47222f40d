"""The finder's position encoding: mm from the grid centre, moved per window by the training jitter only."""

import torch

from spinedet.model.position_encoding import mm_grid_encoding, sine_encoding


def test_an_offset_moves_every_token_by_that_many_mm():
    shape, step = (2, 3, 4), (8.0, 16.0, 16.0)
    offset = torch.tensor([[10.0, -40.0, 5.0], [0.0, 0.0, 0.0]])
    moved = mm_grid_encoding(shape, step, 24, offset_mm=offset)
    plain = mm_grid_encoding(shape, step, 24)
    assert moved.shape == (2, 24, 24) and torch.allclose(moved[1], plain)
    first_token_mm = torch.tensor([(0.5 - n / 2) * s for n, s in zip(shape, step)]) + offset[0]
    assert torch.allclose(moved[0, 0], sine_encoding(first_token_mm / 600.0 + 0.5, 8), atol=1e-6)


def test_jitter_only_in_training():
    from model_configs import micro_config
    from spinedet.model.build import build_model

    config = micro_config()
    config["finder"]["position_jitter_mm"] = 100.0
    finder = build_model(config, ["herniation", "bulge", "degenerated_disc", "stenosis", "disc"], "lumbar",
                         "sagittal").finder
    x = torch.randn(2, 1, 16, 64, 48)
    finder.eval()
    with torch.no_grad():
        assert finder._jitter(2, x.device) is None
        assert torch.equal(finder(x)["level"], finder(x)["level"])
    finder.train()
    shifts = finder._jitter(2, x.device)
    assert shifts.shape == (2, 3) and shifts.abs().max() <= 100.0 and not torch.equal(shifts, finder._jitter(2, x.device))
