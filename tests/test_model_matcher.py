"""Hungarian matching against brute force, and the set loss falling on one fixed batch."""

import itertools

import pytest
import torch

from spinedet.model.detector import build_detector
from spinedet.model.losses import set_loss
from spinedet.model.box_ops import cxcyczdhw_to_corners, pairwise_giou
from spinedet.model.matcher import hungarian_match
from model_configs import micro_detr_config as micro_config


def test_matching_is_the_minimum_cost_assignment():
    torch.manual_seed(0)
    logits = torch.randn(1, 5, 3)
    boxes = torch.rand(1, 5, 6) * 0.5 + 0.25
    target = {"labels": torch.tensor([0, 2, 1]), "boxes": torch.rand(3, 6) * 0.5 + 0.25}
    (rows, cols), = hungarian_match(logits, boxes, [target], 2.0, 5.0, 2.0)
    prob = logits.sigmoid()[0]
    giou = pairwise_giou(cxcyczdhw_to_corners(boxes[0]), cxcyczdhw_to_corners(target["boxes"]))
    cost = torch.zeros(5, 3)
    for q in range(5):
        for t in range(3):
            p = prob[q, target["labels"][t]]
            focal = 0.25 * (1 - p) ** 2 * -(p + 1e-8).log() - 0.75 * p**2 * -(1 - p + 1e-8).log()
            cost[q, t] = 2 * focal + 5 * (boxes[0, q] - target["boxes"][t]).abs().sum() - 2 * giou[q, t]
    best = min(itertools.permutations(range(5), 3), key=lambda qs: sum(float(cost[q, t]) for t, q in enumerate(qs)))
    assert sorted(zip(cols.tolist(), rows.tolist())) == list(enumerate(best))


@pytest.mark.parametrize("two_stage", [False, True])
def test_loss_falls_when_fitting_one_batch(two_stage):
    torch.manual_seed(0)
    config = micro_config()
    config["model"]["two_stage"] = two_stage
    model = build_detector(config, 5)
    x = torch.randn(2, 1, 16, 48, 32)
    out = model(x)
    assert out["logits"].shape == (2, 12, 5) and out["boxes"].shape == (2, 12, 6) and len(out["aux"]) == 1
    assert ("enc" in out) == two_stage and bool(((out["boxes"] > 0) & (out["boxes"] < 1)).all())
    targets = [{"labels": torch.tensor([4, 0]), "boxes": torch.tensor([[0.5, 0.4, 0.5, 0.2, 0.1, 0.3],
                                                                        [0.5, 0.6, 0.6, 0.2, 0.1, 0.1]])},
               {"labels": torch.tensor([4]), "boxes": torch.tensor([[0.3, 0.5, 0.5, 0.3, 0.1, 0.3]])}]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(40):
        loss, _ = set_loss(model(x), targets, config["train"]["loss_weights"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert min(losses[-5:]) < 0.7 * losses[0]


def test_denoising_queries_are_hidden_from_the_matching_queries():
    torch.manual_seed(0)
    config = micro_config()
    config["model"].update(two_stage=True, dn_noise=0.4)
    model = build_detector(config, 5).train()
    x = torch.randn(2, 1, 16, 48, 32)
    targets = [{"labels": torch.tensor([4, 0]), "boxes": torch.tensor([[0.5, 0.4, 0.5, 0.2, 0.1, 0.3],
                                                                        [0.5, 0.6, 0.6, 0.2, 0.1, 0.1]])},
               {"labels": torch.tensor([4]), "boxes": torch.tensor([[0.3, 0.5, 0.5, 0.3, 0.1, 0.3]])}]
    out = model(x, targets)
    assert out["dn"][-1]["boxes"].shape == (2, 2, 6) and out["dn_valid"].tolist() == [[True, True], [True, False]]
    assert torch.allclose(out["boxes"], model(x)["boxes"], atol=1e-6)  # the answers do not leak
    loss_with, _ = set_loss(out, targets, config["train"]["loss_weights"])
    loss_without, _ = set_loss(model(x), targets, config["train"]["loss_weights"])
    assert float(loss_with.detach()) > float(loss_without.detach())  # the denoising losses are added
