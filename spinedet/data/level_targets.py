"""Training targets of the level design from a dataset entry: discs by level, and per (disc, class) whether a
finding is there, its LPS box, its grade, and whether the pair was labelled at all."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinedet.data.grades import GRADES
from spinedet.data.levels import ALL_LEVELS


@dataclass
class LevelTruth:
    """The truth of one scan, discs ordered head to foot (K), disease classes (C)."""

    levels: np.ndarray  # (K,) indices into ALL_LEVELS
    disc_boxes_lps: np.ndarray  # (K, 6)
    presence: np.ndarray  # (K, C) 1.0 where the class is present at that disc
    boxes_lps: np.ndarray  # (K, C, 6) the finding's box where present, else the disc's
    labelled: np.ndarray  # (K, C) 0.0 for pairs the annotation left out ("unlabelled")
    grades: np.ndarray  # (K, C) int: the finding's place on its class's scale (0 mildest), -1 absent or ungraded

    @property
    def centres_lps(self) -> np.ndarray:
        return (self.disc_boxes_lps[:, :3] + self.disc_boxes_lps[:, 3:]) / 2

    def window(self, count: int, rng: np.random.Generator, focus: int | None = None) -> slice:
        """A random run of `count` neighbouring discs (all of them where there are no more), holding disc `focus`
        where one is given."""
        if len(self.levels) <= count:
            return slice(0, len(self.levels))
        low, high = 0, len(self.levels) - count
        if focus is not None:
            low, high = max(low, focus - count + 1), min(high, focus)
        start = int(rng.integers(low, high + 1))
        return slice(start, start + count)

    def part(self, discs: slice) -> "LevelTruth":
        """The truth of the discs `discs` picks."""
        return LevelTruth(self.levels[discs], self.disc_boxes_lps[discs], self.presence[discs], self.boxes_lps[discs],
                          self.labelled[discs], self.grades[discs])


def level_truth(entry: dict, classes: list[str]) -> LevelTruth:
    """Discs with a known level, head to foot (world z descending), and the findings at them; findings at a level
    without a disc box in the scan are left out (no crop can be placed for them). Where two findings share a
    (class, level) (the two sides of an RSNA condition), the pair's grade is the more severe."""
    discs = sorted((d for d in entry.get("discs", []) if d.get("level") in ALL_LEVELS),
                   key=lambda d: -(d["box_lps"][2] + d["box_lps"][5]))
    levels = [d["level"] for d in discs]
    k, c = len(discs), len(classes)
    disc_boxes = np.array([d["box_lps"] for d in discs], float).reshape(k, 6)
    presence = np.zeros((k, c))
    boxes = np.repeat(disc_boxes[:, None], c, axis=1).reshape(k, c, 6)
    labelled = np.ones((k, c))
    grades = np.full((k, c), -1)
    for f in entry.get("findings", []):
        if f.get("level") in levels and f["class"] in classes:
            i, j = levels.index(f["level"]), classes.index(f["class"])
            presence[i, j] = 1.0
            boxes[i, j] = f["box_lps"]
            if "grade" in f:
                grades[i, j] = max(grades[i, j], GRADES[f["class"]].index(f["grade"]))
    for u in entry.get("unlabelled", []):
        if u.get("level") in levels and u.get("class") in classes:
            labelled[levels.index(u["level"]), classes.index(u["class"])] = 0.0
    return LevelTruth(np.array([ALL_LEVELS.index(lv) for lv in levels], int), disc_boxes, presence, boxes, labelled,
                      grades)


@dataclass
class FinderTargets:
    """Dense targets of the level finder on its output grid (d, h, w)."""

    heatmap: np.ndarray  # (d, h, w) Gaussian peaks, exactly 1 at each disc's centre voxel
    peaks: np.ndarray  # (N, 3) int output voxel of each disc
    offsets: np.ndarray  # (N, 3) centre minus its voxel, in output voxels
    log_sizes: np.ndarray  # (N, 3) log of the disc extent in input voxels
    level_map: np.ndarray  # (d, h, w) int level index of the nearest disc's peak region, -1 elsewhere
    level_weight: np.ndarray  # (d, h, w) weight of the level target (the Gaussian there), 0 elsewhere


def finder_targets(centres_input: np.ndarray, sizes_input: np.ndarray, levels: np.ndarray, grid_shape, out_stride,
                   sigma_frac: float = 0.2, min_sigma: float = 0.35, level_min: float = 0.3) -> FinderTargets:
    """Targets for discs given by centre and size in input voxels; output voxel o sits at input voxel o * stride.
    Each disc's Gaussian has a standard deviation of `sigma_frac` of its size (at least `min_sigma` voxels)."""
    stride = np.asarray(out_stride, float)
    grid_shape = tuple(int(n) for n in grid_shape)
    centres = np.asarray(centres_input, float).reshape(-1, 3) / stride
    sizes = np.asarray(sizes_input, float).reshape(-1, 3)
    peaks = np.clip(np.round(centres), 0, np.array(grid_shape) - 1).astype(int)
    axes = np.meshgrid(*[np.arange(n, dtype=float) for n in grid_shape], indexing="ij")
    heatmap = np.zeros(grid_shape)
    owner = np.full(grid_shape, -1)
    for n, (c, size) in enumerate(zip(centres, sizes)):
        sigma = np.maximum(min_sigma, sigma_frac * size / stride)
        g = np.exp(-sum((a - ci) ** 2 / (2 * s**2) for a, ci, s in zip(axes, c, sigma)))
        g[tuple(peaks[n])] = 1.0
        owner[g > heatmap] = n
        heatmap = np.maximum(heatmap, g)
    level_of_owner = np.append(np.asarray(levels, int), -1)  # owner -1 (no disc) -> level -1
    level_map = np.where(heatmap >= level_min, level_of_owner[owner], -1)
    return FinderTargets(heatmap, peaks, centres - peaks, np.log(np.maximum(sizes, 0.5)), level_map,
                         np.where(level_map >= 0, heatmap, 0.0))
