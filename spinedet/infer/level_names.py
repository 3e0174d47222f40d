"""Naming found discs from the level finder's own level probabilities, consistently along the spine.

Each candidate disc carries a score (its heatmap peak) and probabilities over the levels. Candidates ordered head
to foot get strictly increasing levels (a missed disc leaves a gap; it shifts no other name), and a candidate may
be dropped: the names and the kept set maximise sum(log p(level)) over kept candidates minus DROP_COST * score for
each dropped one (dynamic programming). Heatmap peaks are not calibrated probabilities (a sure disc often peaks at
0.5-0.8), so the score sets what dropping costs rather than entering as a likelihood. A false box below L5/S1
cannot take a level (none is left below) and is dropped instead of shifting every name above it, as counting from
the lowest box would; a duplicate of a disc is dropped rather than given a level its probabilities deny.
"""

from __future__ import annotations

import numpy as np

from spinedet.data.levels import ALL_LEVELS

# The levels a region's scans may show (sagittal fields of view reach into the thoracic spine).
REGION_SPAN = {"lumbar": ("T6/T7", "L5/S1"), "cervical": ("C2/C3", "T6/T7")}
_EPS = 1e-6
DROP_COST = 4.0  # nats per unit of peak score: a sure disc (score ~0.8) is dropped only against odds of e^3 or more


def region_levels(region: str) -> list[int]:
    """Indices into ALL_LEVELS of the levels a scan of `region` may show."""
    first, last = (ALL_LEVELS.index(name) for name in REGION_SPAN[region])
    return list(range(first, last + 1))


def assign_levels(scores: np.ndarray, level_probs: np.ndarray, allowed: list[int]) -> list[int | None]:
    """For candidates ordered head to foot, the level index each one takes (into ALL_LEVELS), or None if dropped.

    `scores` (N,) disc probabilities; `level_probs` (N, len(ALL_LEVELS)); only `allowed` levels are considered.
    """
    n = len(scores)
    if n == 0:
        return []
    p = np.asarray(level_probs, float)[:, allowed]
    p = p / np.maximum(p.sum(axis=1, keepdims=True), _EPS)
    keep_gain = np.log(np.maximum(p, _EPS))  # (N, L)
    drop_gain = -DROP_COST * np.asarray(scores, float)
    m = len(allowed)
    # best[i, l]: the best total over the first i candidates with every kept level below column l
    best = np.zeros((n + 1, m + 1))
    choice = np.full((n + 1, m + 1), -1)  # for (i + 1, l): -1 if candidate i is dropped, else its level column
    for i in range(n):
        running = -np.inf  # max over a < l of best[i, a] + keep_gain[i, a]
        running_at = -1
        for l in range(m + 1):
            best[i + 1, l], choice[i + 1, l] = best[i, l] + drop_gain[i], -1
            if running > best[i + 1, l]:
                best[i + 1, l], choice[i + 1, l] = running, running_at
            if l < m and best[i, l] + keep_gain[i, l] > running:
                running, running_at = best[i, l] + keep_gain[i, l], l
    out: list[int | None] = [None] * n
    column = m
    for i in range(n, 0, -1):
        pick = choice[i, column]
        if pick >= 0:
            out[i - 1] = allowed[pick]
            column = pick
    return out
