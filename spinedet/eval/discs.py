"""Disc finding and naming: recall of truth discs (the truth centre inside a predicted disc box), the share of
found discs named right, and false discs per scan."""

from __future__ import annotations

import numpy as np


def _centre(box) -> np.ndarray:
    b = np.asarray(box, float)
    return (b[:3] + b[3:]) / 2


def names_of_found(found: list[dict], truth: list[dict]) -> list[tuple[str, str]]:
    """(true level, predicted level) for every found disc (with `centre_lps`) whose centre lies in a true disc box."""
    pairs = []
    for disc in found:
        centre = np.asarray(disc["centre_lps"], float)
        pairs += [(t["level"], disc["level"]) for t in truth
                  if np.all(centre >= np.asarray(t["box_lps"][:3])) and np.all(centre <= np.asarray(t["box_lps"][3:]))]
    return pairs


def disc_metrics(truth: dict, predictions: dict) -> dict:
    """{"disc_recall", "disc_level_accuracy", "false_discs_per_scan", "n_discs"} over the truth's scans; each truth
    disc is found by the predicted disc box holding its centre (the nearest such box by centre distance)."""
    predicted = {s["id"]: s.get("discs", []) for s in predictions.get("scans", [])}
    found = named = n_truth = false = 0
    scans = truth.get("scans", [])
    for scan in scans:
        boxes = [np.asarray(d["box_lps"], float) for d in predicted.get(scan["id"], [])]
        used = set()
        for disc in scan.get("discs", []):
            n_truth += 1
            c = _centre(disc["box_lps"])
            holders = [k for k, b in enumerate(boxes) if np.all(c >= b[:3]) and np.all(c <= b[3:])]
            if not holders:
                continue
            k = min(holders, key=lambda k: float(np.linalg.norm(_centre(boxes[k]) - c)))
            found += 1
            named += predicted[scan["id"]][k].get("level") == disc.get("level")
            used.add(k)
        false += len(boxes) - len(used)
    return {"disc_recall": found / n_truth if n_truth else None,
            "disc_level_accuracy": named / found if found else None,
            "false_discs_per_scan": false / len(scans) if scans else None, "n_discs": n_truth}
