"""Training batches of the level design: the finder's windows of whole scans with dense targets, and the judge's
crops around true discs (jittered) with fixed targets."""

from __future__ import annotations

import numpy as np
import torch

from spinedet.data.augment import augment_crops, augment_intensity, tilt_window
from spinedet.data.randomise import randomise
from spinedet.data.crops import LEFT_RIGHT_AXIS, SUPERIOR_AXIS
from spinedet.data.preprocess import crop_or_pad
from spinedet.data.level_crops import CropVolume, disc_crops, loss_frame, world_boxes_in_frame
from spinedet.data.level_targets import FinderTargets, LevelTruth, finder_targets
from spinedet.io.geometry import box_world_to_voxel


def judge_batch(items: list[tuple[CropVolume, LevelTruth]], crop: dict, rng: np.random.Generator | None,
                jitter: dict | None, augment: bool, discs_per_scan: int | None = None, randomised: dict | None = None,
                focus: list[int | None] | None = None) -> tuple[dict, dict]:
    """(inputs, targets) of the judge for scans with at least one disc; crops padded to the most discs. With `rng`
    and `discs_per_scan`, each scan gives a random run of that many neighbouring discs (a cheaper step), holding
    the scan's disc in `focus` where one is named; augmented, a scan's crops also get the domain randomisation
    `randomised` (spinedet.data.randomise)."""
    focus = focus or [None] * len(items)
    windows = [truth.window(discs_per_scan, rng, disc) if rng is not None and discs_per_scan else slice(None)
               for (_, truth), disc in zip(items, focus)]
    k_max = max(len(truth.levels[window]) for (_, truth), window in zip(items, windows))
    c = items[0][1].presence.shape[1]
    b = len(items)
    crops = torch.zeros(b, k_max, *crop["shape"])
    levels = torch.zeros(b, k_max, dtype=torch.long)
    valid = torch.zeros(b, k_max, dtype=torch.bool)
    presence, labelled = torch.zeros(b, k_max, c), torch.zeros(b, k_max, c)
    grades = torch.full((b, k_max, c), -1, dtype=torch.long)
    boxes = torch.zeros(b, k_max, c, 6)
    crop_boxes = torch.zeros(b, k_max, c, 6)
    frames = torch.eye(4).repeat(b, k_max, 1, 1)
    for n, ((volume, whole), window) in enumerate(zip(items, windows)):
        truth = whole.part(window)
        k = len(truth.levels)
        made = disc_crops(volume, whole.centres_lps, crop, rng, jitter, window)
        array = made.crops.numpy()
        if augment and rng is not None:
            array = randomise(augment_crops(array, rng), rng, randomised or {})
        crops[n, :k] = torch.from_numpy(array)
        levels[n, :k] = torch.from_numpy(truth.levels)
        valid[n, :k] = True
        presence[n, :k] = torch.from_numpy(truth.presence).float()
        labelled[n, :k] = torch.from_numpy(truth.labelled).float()
        grades[n, :k] = torch.from_numpy(truth.grades)
        boxes[n, :k] = torch.from_numpy(world_boxes_in_frame(truth.boxes_lps, made.crop_to_world, crop)).float()
        frames[n, :k] = torch.from_numpy(loss_frame(made.crop_to_world, crop)).float()
        crop_boxes[n, :k] = torch.from_numpy(np.array(
            [[box_world_to_voxel(box, a) for box in per_class] for per_class, a in zip(truth.boxes_lps, made.crop_to_world)]
        ).reshape(k, c, 6)).float()
    return ({"crops": crops, "levels": levels, "valid": valid},
            {"presence": presence, "labelled": labelled, "grades": grades, "boxes": boxes, "frames": frames,
             "crop_boxes": crop_boxes})


class FindingIndex:
    """Where each disease class occurs among the training scans, for class-balanced draws of judge windows."""

    def __init__(self, truths: list[LevelTruth]):
        self.with_discs = np.array([n for n, t in enumerate(truths) if len(t.levels)], int)
        present = [(t.presence * t.labelled) > 0 for t in truths]
        n_classes = next((p.shape[1] for p in present if p.size), 0)
        pairs = [np.array([(n, k) for n, p in enumerate(present) for k in np.flatnonzero(p[:, c])], int)
                 for c in range(n_classes)]
        self.by_class = [found for found in pairs if len(found)]  # per class that occurs: its (scan, disc) pairs

    def draw(self, count: int, rng: np.random.Generator, focus_p: float) -> list[tuple[int, int | None]]:
        """`count` (scan index, focus disc or None): each with probability `focus_p` a class drawn evenly from the
        classes that occur, then one of its findings (its scan and disc); otherwise a scan with discs, unfocused."""
        draws = []
        for _ in range(count):
            if self.by_class and rng.random() < focus_p:
                pairs = self.by_class[int(rng.integers(len(self.by_class)))]
                scan, disc = pairs[int(rng.integers(len(pairs)))]
                draws.append((int(scan), int(disc)))
            else:
                draws.append((int(rng.choice(self.with_discs)), None))
        return draws


def finder_window(coarse: np.ndarray, shape, view: str, rng: np.random.Generator | None, fov_cut: float = 0.0,
                  cut_moves: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A `shape` window of a coarse volume: (array, start index in the volume, kept mask along the superior axis).

    Centred, or with `rng` placed anywhere that keeps the volume's centre inside; with probability `fov_cut` a
    band of up to 40% of the window at its head or foot end (or both) is blanked, as a shorter field of view
    would show the spine (the mask says which rows of that axis remain). With `cut_moves`, what a cut leaves then
    moves to a random place along that axis, so that blank rows above or below say nothing of which end was cut
    (a short axial stack padded at both ends is not a scan whose upper discs were cut away)."""
    shape = np.asarray(shape)
    size = np.asarray(coarse.shape)
    start = (size - shape) // 2
    if rng is not None:
        slack = np.abs(size - shape) // 2
        start = start + np.round(rng.uniform(-1, 1, 3) * np.minimum(slack, shape // 4)).astype(int)
    array = crop_or_pad(coarse, shape, start)
    axis = SUPERIOR_AXIS[view][0]
    keep = np.ones(int(shape[axis]), bool)
    if rng is not None and rng.random() < fov_cut:
        n = int(shape[axis])
        ends = rng.choice(["head", "foot", "both"])  # index 0 of the superior axis is the head end in both views
        if ends in ("head", "both"):
            keep[: int(rng.uniform(0.1, 0.4) * n)] = False
        if ends in ("foot", "both"):
            keep[n - int(rng.uniform(0.1, 0.4) * n):] = False
        index = [slice(None)] * 3
        index[axis] = ~keep
        array[tuple(index)] = 0.0
        if cut_moves and keep.any():
            first, stop = np.flatnonzero(keep)[[0, -1]] + [0, 1]
            shift = int(rng.integers(-first, n - stop + 1))
            array, keep = np.roll(array, shift, axis), np.roll(keep, shift)  # only blank rows wrap round
            start = start.copy()
            start[axis] -= shift
    return array, start, keep


def _in_window(centres: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Which voxel centres (N, 3) fall on a voxel of a window of `shape`."""
    return np.all((centres > -0.5) & (centres < shape - 0.5), axis=1)


def finder_batch(items: list[tuple[np.ndarray, np.ndarray, LevelTruth]], finder_input: dict, view: str,
                 out_stride, rng: np.random.Generator | None, augment: bool, fov_cut: float = 0.0,
                 randomised: dict | None = None, cut_moves: bool = False,
                 tilt_deg: float = 0.0) -> tuple[torch.Tensor, list[FinderTargets]]:
    """(windows (B, 1, D, H, W), targets) for scans given as (coarse volume, coarse voxel -> LPS affine, truth);
    augmented, each window is also tilted about the left-right axis by up to `tilt_deg` (as a tilted stack shows
    the spine) and gets the domain randomisation `randomised` (spinedet.data.randomise)."""
    shape = np.asarray(finder_input["shape"])
    grid = -(-shape // np.asarray(out_stride))
    windows, targets = [], []
    for coarse, coarse_affine, truth in items:
        array, start, keep = finder_window(coarse, shape, view, rng if augment else None, fov_cut, cut_moves)
        inv = np.linalg.inv(coarse_affine)
        centres = truth.centres_lps @ inv[:3, :3].T + inv[:3, 3] - start
        sizes = np.array([box_world_to_voxel(b, coarse_affine)[3:] - box_world_to_voxel(b, coarse_affine)[:3]
                          for b in truth.disc_boxes_lps]).reshape(-1, 3)
        axis = SUPERIOR_AXIS[view][0]
        row = np.round(centres[:, axis]).astype(int)
        inside = _in_window(centres, shape) & keep[np.clip(row, 0, len(keep) - 1)]
        centres, sizes, levels = centres[inside], sizes[inside], truth.levels[inside]
        if augment and rng is not None:
            lr = LEFT_RIGHT_AXIS[view]
            if rng.random() < 0.5:
                array = np.flip(array, lr).copy()
                centres[:, lr] = shape[lr] - 1 - centres[:, lr]
            if tilt_deg:
                plane = (axis, 3 - axis - lr)  # superior and anterior-posterior axes
                array, centres, sizes = tilt_window(array, centres, sizes, rng.uniform(-tilt_deg, tilt_deg), plane,
                                                    finder_input["spacing_mm"])
                inside = _in_window(centres, shape)
                centres, sizes, levels = centres[inside], sizes[inside], levels[inside]
            array = randomise(augment_intensity(array, rng), rng, randomised or {})
        windows.append(torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)))
        targets.append(finder_targets(centres, sizes, levels, grid, out_stride))
    return torch.stack(windows)[:, None], targets
