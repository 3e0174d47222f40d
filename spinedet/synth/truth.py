"""Ground truth per scan: the world box of every disc and finding visible in the stack."""

from __future__ import annotations

import numpy as np

from spinedet.data.levels import ALL_LEVELS
from spinedet.io.geometry import box_voxel_to_world
from spinedet.synth.acquisition import Stack

MIN_VISIBLE_VOXELS = 4


def coverage_lps(stack: Stack) -> np.ndarray:
    """The world box of the stack's voxel corners."""
    n0, n1, n2 = stack.shape
    return box_voxel_to_world(np.array([-0.5, -0.5, -0.5, n0 - 0.5, n1 - 0.5, n2 - 0.5]), stack.affine)


def voxels_with(labels: np.ndarray, codes, sub_slices: int) -> np.ndarray:
    """Boolean (slices, rows, columns): voxels where any sub-slice shows one of `codes`."""
    hit = np.isin(labels, np.asarray(codes, np.uint8))
    return hit.reshape(-1, sub_slices, *labels.shape[1:]).any(axis=1)


def visible_box(box_lps, codes, counts: np.ndarray, stack: Stack, sub_slices: int) -> list[float] | None:
    """The box clipped to the stack when the structure fills at least MIN_VISIBLE_VOXELS voxels' worth of
    sub-slice samples in it (`counts`: samples per label code), else None."""
    if box_lps is None:
        return None
    cover = coverage_lps(stack)
    cover_lo, cover_hi = np.ceil(cover[:3] * 1000) / 1000, np.floor(cover[3:] * 1000) / 1000  # stays inside
    lo = np.maximum(np.floor(box_lps[:3] * 1000) / 1000, cover_lo)
    hi = np.minimum(np.ceil(box_lps[3:] * 1000) / 1000, cover_hi)
    if np.any(hi - lo < 0.5):
        return None
    if counts[list(codes)].sum() < MIN_VISIBLE_VOXELS * sub_slices:
        return None
    return [float(v) for v in np.concatenate([lo, hi])]


def scan_truth(truth_boxes: dict, labels: np.ndarray, stack: Stack, sub_slices: int) -> tuple[list, list]:
    """(findings, discs) entries for dataset.json from precomputed patient boxes."""
    findings, discs = [], []
    counts = np.bincount(labels.ravel(), minlength=256)
    for level, box, codes in truth_boxes["discs"]:
        if level in ALL_LEVELS:
            clipped = visible_box(box, codes, counts, stack, sub_slices)
            if clipped:
                discs.append({"level": level, "box_lps": clipped})
    for lesion, box, codes in truth_boxes["lesions"]:
        clipped = visible_box(box, codes, counts, stack, sub_slices)
        if clipped:
            finding = {"class": lesion.cls, "level": lesion.level, "box_lps": clipped, "detail": lesion.detail}
            if lesion.grade is not None:
                finding["grade"] = lesion.grade
            findings.append(finding)
    return findings, discs
