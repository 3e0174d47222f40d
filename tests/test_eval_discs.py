"""Disc recall (truth centre inside a predicted disc box), naming accuracy and false discs, on a hand-made case."""

from spinedet.eval.discs import disc_metrics


def _disc(level, z, half=5.0):
    return {"level": level, "box_lps": [-20.0, -15.0, z - half, 20.0, 15.0, z + half]}


def test_hand_computed_disc_metrics():
    truth = {"scans": [{"id": "a", "discs": [_disc("L3/L4", 0), _disc("L4/L5", -35), _disc("L5/S1", -70)]},
                       {"id": "b", "discs": [_disc("L5/S1", 0)]}]}
    predictions = {"scans": [
        {"id": "a", "discs": [_disc("L3/L4", 1), _disc("L5/S1", -34), _disc("L5/S1", -110)]},  # 2nd misnamed, 3rd false
        {"id": "b", "discs": []},
    ]}
    m = disc_metrics(truth, predictions)
    assert m["n_discs"] == 4
    assert m["disc_recall"] == 2 / 4 and m["disc_level_accuracy"] == 1 / 2 and m["false_discs_per_scan"] == 1 / 2


def test_no_truth_discs_gives_undefined_rates():
    m = disc_metrics({"scans": [{"id": "a", "discs": []}]}, {"scans": []})
    assert m["disc_recall"] is None and m["disc_level_accuracy"] is None and m["false_discs_per_scan"] == 0
