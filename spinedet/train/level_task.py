"""Training of the level design: per step, the finder on windows of whole scans and the judge on the crops of their
true discs (jittered), one loss, one optimizer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from spinedet.data.dataset import DISC_CLASS, image_path
from spinedet.data.grades import grade_counts
from spinedet.data.level_crops import CropVolume, resampled_affine
from spinedet.data.level_targets import LevelTruth, level_truth
from spinedet.model.level_losses import finder_loss, judge_loss
from spinedet.train.data import resampled_scan
from spinedet.train.level_batches import FindingIndex, finder_batch, judge_batch


@dataclass
class LevelItem:
    """One training scan: its coarse volume for the finder, its crop-spacing volume for the judge, its truth."""

    scan_id: str
    coarse: np.ndarray
    coarse_affine: np.ndarray
    volume: CropVolume
    truth: LevelTruth


class LevelTask:
    """Data, batches and loss of the level design for one region and view."""

    def __init__(self, config: dict, classes: list[str], region: str, view: str):
        self.section = config["input"][region][view]
        self.jitter = config["judge"].get("jitter")
        self.discs_per_scan = config["judge"].get("discs_per_scan")  # training crops per scan; None: every disc
        self.scans_per_step = config["judge"].get("scans_per_step")  # judge windows drawn per step; None: the batch's
        self.focus_p = float(config["judge"].get("focus_p", 0.0))  # share of those drawn class-balanced
        self.index: FindingIndex | None = None
        self.pool: list[LevelItem] = []
        self.train = config["train"]
        self.randomised = self.train.get("randomise", {})  # domain randomisation effects (spinedet.data.randomise)
        self.fov_cut = view_value(self.train.get("fov_cut", 0.0), view)  # share of finder windows with a cut view
        self.cut_moves = bool(view_value(self.train.get("fov_cut_moves", False), view))  # what a cut leaves moves
        self.tilt_deg = float(view_value(self.train.get("finder_tilt_deg", 0.0), view))  # finder windows' tilt
        self.classes = [c for c in classes if c != DISC_CLASS]
        self.grade_counts = grade_counts(self.classes) if config["judge"].get("grade_head", False) else None
        self.view = view

    def use_training_scans(self, items: list[LevelItem]) -> None:
        """The prepared training scans from which the judge draws its windows (with `judge.scans_per_step`)."""
        self.pool = items
        self.index = FindingIndex([it.truth for it in items])

    def preprocessing(self) -> dict:
        return self.section

    def prepare(self, dataset_path: Path, entry: dict) -> LevelItem:
        path = image_path(dataset_path, entry)
        coarse, factor, affine = resampled_scan(path, entry["view"], entry["region"], self.section["finder"]["spacing_mm"])
        fine, fine_factor, _ = resampled_scan(path, entry["view"], entry["region"], self.section["crop"]["spacing_mm"])
        return LevelItem(entry["id"], coarse, resampled_affine(affine, factor),
                         CropVolume(fine, resampled_affine(affine, fine_factor), entry["view"]),
                         level_truth(entry, self.classes))

    def loss(self, model: torch.nn.Module, items: list[LevelItem], rng: np.random.Generator | None,
             device: torch.device) -> tuple[torch.Tensor, dict]:
        """Finder loss on `items`, judge loss on windows of discs: with `judge.scans_per_step`, that many drawn from
        the training scans (`use_training_scans`), a share `judge.focus_p` of them class-balanced around a finding
        (FindingIndex); else one of each of `items` with discs. `rng` None: no augmentation."""
        augment = bool(self.train["augment"]) and rng is not None
        windows, finder_targets = finder_batch([(it.coarse, it.coarse_affine, it.truth) for it in items],
                                               self.section["finder"], self.view, model_out_stride(model), rng,
                                               augment, self.fov_cut, self.randomised, self.cut_moves, self.tilt_deg)
        if self.scans_per_step and self.index is not None and len(self.index.with_discs) and rng is not None:
            draws = self.index.draw(int(self.scans_per_step), rng, self.focus_p)
            chosen, focus = [self.pool[n] for n, _ in draws], [disc for _, disc in draws]
        else:
            chosen = [it for it in items if len(it.truth.levels)]
            focus = None
        judge_inputs, judge_targets = (judge_batch([(it.volume, it.truth) for it in chosen], self.section["crop"],
                                                   rng if augment else None, self.jitter, augment,
                                                   self.discs_per_scan, self.randomised, focus)
                                       if chosen else (None, None))
        out = model(windows=windows.to(device), **({k: v.to(device) for k, v in judge_inputs.items()}
                                                   if judge_inputs else {}))
        weights = self.train["loss_weights"]
        total, parts = finder_loss(out["finder"], finder_targets, weights)
        if judge_inputs:
            j_total, j_parts = judge_loss(out["judge"], {k: v.to(device) for k, v in judge_targets.items()},
                                          self.section["crop"]["shape"], weights, self.grade_counts)
            total, parts = total + j_total, {**parts, **j_parts}
        return total, parts


def view_value(setting, view: str) -> float:
    """A training setting given as one number for every view or as {view: number}."""
    return float(setting[view] if isinstance(setting, dict) else setting)


def model_out_stride(model: torch.nn.Module):
    """The finder's output stride, through a DDP wrapper if there is one."""
    return getattr(model, "module", model).finder.out_stride
