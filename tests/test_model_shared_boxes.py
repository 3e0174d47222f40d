"""Targets sharing one box (a disc and its degeneration) teach their queries both classes, not contradictions."""

import torch

from spinedet.model.losses import layer_loss, shared_box_classes

DISC, DEGENERATED, HERNIATION = 3, 2, 0


def _target():
    disc_box = [0.5, 0.4, 0.5, 0.1, 0.2, 0.3]
    boxes = torch.tensor([disc_box, disc_box, [0.6, 0.45, 0.5, 0.05, 0.05, 0.05]])
    return {"labels": torch.tensor([DISC, DEGENERATED, HERNIATION]), "boxes": boxes}


def test_identical_boxes_share_their_classes():
    multi_hot = shared_box_classes(_target(), 4)
    assert multi_hot.tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [1, 0, 0, 0]]
    empty = {"labels": torch.zeros(0, dtype=torch.long), "boxes": torch.zeros(0, 6)}
    assert shared_box_classes(empty, 4).shape == (0, 4)


def test_a_query_saying_both_classes_on_the_shared_box_costs_nothing_more():
    """Perfect boxes, and queries 0 and 1 (the shared box) confident of disc and degenerated: no class loss is
    spent pushing either label down, unlike one-class targets."""
    target = _target()
    logits = torch.full((1, 4, 4), -9.0)
    logits[0, 0, [DISC, DEGENERATED]] = 9.0
    logits[0, 1, [DISC, DEGENERATED]] = 9.0
    logits[0, 2, HERNIATION] = 9.0
    boxes = torch.cat([target["boxes"], torch.tensor([[0.2, 0.2, 0.2, 0.1, 0.1, 0.1]])])[None]
    weights = {"class": 2.0, "l1": 5.0, "giou": 2.0}
    losses = layer_loss({"logits": logits, "boxes": boxes}, [target], [shared_box_classes(target, 4)], weights,
                        num_boxes=3.0)
    assert losses["class"] < 1e-3 and losses["l1"] < 1e-6 and losses["giou"] < 1e-5
