"""Naming found discs from the finder's own level probabilities and their spacing, consistently along the spine.

Each candidate disc carries a score (its heatmap peak), probabilities over the levels and a centre in mm.
Candidates ordered head to foot get strictly increasing levels, and a candidate may be dropped: the names and the
kept set maximise, by dynamic programming,
  sum over kept candidates of log p(level)
  - DROP_COST * score of each dropped candidate
  - (log(d / (k * s)))^2 / (2 * SPACING_SIGMA^2) for each pair of consecutive kept candidates,
where d is their distance, k the number of levels between their names and s the scan's disc spacing: the median
distance of neighbouring strong candidates (peak at least half the highest; weaker ones are where duplicates and
false boxes are). Heatmap peaks are not calibrated probabilities (a sure disc often peaks at 0.5-0.8), so the
score sets what dropping costs rather than entering as a likelihood. A false box below L5/S1 cannot take a level
(none is left below) and is dropped instead of shifting every name above it, as counting from the lowest box
would; a duplicate of a disc is dropped rather than given a level its probabilities deny; a missed disc leaves a
gap as long as one disc spacing, so a gap is taken where the spacing shows one and not elsewhere.
"""

from __future__ import annotations

import numpy as np

from spinedet.data.levels import ALL_LEVELS

# The levels a region's scans may show (sagittal fields of view reach into the thoracic spine).
REGION_SPAN = {"lumbar": ("T6/T7", "L5/S1"), "cervical": ("C2/C3", "T6/T7")}
_EPS = 1e-6
DROP_COST = 4.0  # nats per unit of peak score: a sure disc (score ~0.8) is dropped only against odds of e^3 or more
SPACING_SIGMA = 0.25  # spread of log(distance / expected distance) of named neighbours: one level too many or too
# few between discs one spacing apart costs (log 2)^2 / (2 * 0.25^2) = 3.8 nats


def region_levels(region: str) -> list[int]:
    """Indices into ALL_LEVELS of the levels a scan of `region` may show."""
    first, last = (ALL_LEVELS.index(name) for name in REGION_SPAN[region])
    return list(range(first, last + 1))


def disc_spacing_mm(scores: np.ndarray, centres_mm: np.ndarray) -> float | None:
    """Median distance between neighbouring strong candidates (head-to-foot order), None with fewer than two."""
    strong = centres_mm[np.asarray(scores) >= 0.5 * np.max(scores)]
    if len(strong) < 2:
        return None
    return float(np.median(np.linalg.norm(np.diff(strong, axis=0), axis=1)))


def spacing_cost(distance_mm: float, spacing_mm: float | None, m: int) -> np.ndarray:
    """(m, m) cost of naming two kept neighbours `distance_mm` apart with level columns (a, b), a after b; inf
    where a <= b (levels strictly increase head to foot); 0 otherwise when the spacing is unknown."""
    jumps = np.arange(m)[:, None] - np.arange(m)[None, :]
    if spacing_mm is None:
        return np.where(jumps > 0, 0.0, np.inf)
    ratio = np.log(max(distance_mm, _EPS) / (np.maximum(jumps, 1) * max(spacing_mm, _EPS)))
    return np.where(jumps > 0, ratio**2 / (2 * SPACING_SIGMA**2), np.inf)


def assign_levels(scores: np.ndarray, level_probs: np.ndarray, centres_mm: np.ndarray, allowed: list[int]
                  ) -> list[int | None]:
    """For candidates ordered head to foot, the level index each one takes (into ALL_LEVELS), or None if dropped.

    `scores` (N,) disc probabilities; `level_probs` (N, len(ALL_LEVELS)); `centres_mm` (N, 3); only `allowed`
    levels are considered.
    """
    n, m = len(scores), len(allowed)
    if n == 0:
        return []
    p = np.asarray(level_probs, float)[:, allowed]
    p = p / np.maximum(p.sum(axis=1, keepdims=True), _EPS)
    keep_gain = np.log(np.maximum(p, _EPS))  # (N, L)
    dropped_before = np.concatenate([[0.0], np.cumsum(-DROP_COST * np.asarray(scores, float))])  # (N + 1,)
    centres = np.asarray(centres_mm, float).reshape(n, 3)
    distance = np.linalg.norm(centres[:, None] - centres[None, :], axis=2)
    spacing = disc_spacing_mm(scores, centres)
    # best[j, a]: the best total over candidates 0..j with j kept at level column a; back[j, a]: (i, b) of the
    # previous kept candidate, or (-1, -1) when j is the first kept one
    best = np.full((n, m), -np.inf)
    back = np.full((n, m, 2), -1)
    for j in range(n):
        best[j] = keep_gain[j] + dropped_before[j]
        for i in range(j):
            between = dropped_before[j] - dropped_before[i + 1]  # i + 1 .. j - 1 dropped
            via = best[i][None, :] - spacing_cost(distance[i, j], spacing, m) + between
            b = np.argmax(via, axis=1)
            gain = keep_gain[j] + via[np.arange(m), b]
            better = gain > best[j]
            best[j, better] = gain[better]
            back[j, better] = np.stack([np.full(m, i), b], axis=1)[better]
    total = best + (dropped_before[n] - dropped_before[1:])[:, None]
    out: list[int | None] = [None] * n
    if total.max() <= dropped_before[n]:
        return out
    j, a = np.unravel_index(int(np.argmax(total)), total.shape)
    while j >= 0:
        out[j] = allowed[a]
        j, a = back[j, a]
    return out
