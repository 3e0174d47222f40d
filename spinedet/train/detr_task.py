"""Training of the DETR head (kept for comparison, `model.kind` "detr"): model-sized windows of whole scans,
Hungarian-matched set loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from spinedet.data.augment import LEFT_RIGHT_AXIS, augment_intensity, clip_boxes, flip_boxes, rotate_and_scale
from spinedet.data.preprocess import crop_or_pad
from spinedet.model.box_ops import voxel_to_normalised
from spinedet.model.losses import set_loss
from spinedet.train.data import TrainingScan, load_training_scan


class DetrTask:
    """Data, batches and loss of the DETR head for one view."""

    def __init__(self, config: dict, classes: list[str], region: str, view: str):
        self.section = config["input"][view]
        self.train = config["train"]
        self.classes = classes
        self.view = view

    def preprocessing(self) -> dict:
        return self.section

    def prepare(self, dataset_path: Path, entry: dict) -> TrainingScan:
        return load_training_scan(dataset_path, entry, self.classes, self.section["spacing_mm"])

    def sample(self, scan: TrainingScan, rng: np.random.Generator | None) -> tuple[torch.Tensor, dict]:
        """A model-sized window of a training scan and its targets; augmented (shift, rotation, zoom, flip,
        intensity) when rng is given."""
        shape, tcfg = np.asarray(self.section["shape"]), self.train
        start = (np.asarray(scan.array.shape) - shape) // 2
        if rng is not None:
            start = start + np.round(rng.uniform(-tcfg["shift_frac"], tcfg["shift_frac"], 3) * shape).astype(int)
        array = crop_or_pad(scan.array, shape, start)
        boxes = np.concatenate([scan.boxes_voxel[:, :3] - start, scan.boxes_voxel[:, 3:] - start], axis=1)
        rotate_deg, scale_frac = tcfg.get("rotate_deg", 0), tcfg.get("scale_frac", 0)
        if rng is not None and (rotate_deg or scale_frac):
            array, boxes = rotate_and_scale(array, boxes, rng, rotate_deg, scale_frac)
        boxes, labels = clip_boxes(boxes, scan.labels, shape)
        if rng is not None:
            if rng.random() < 0.5:
                axis = LEFT_RIGHT_AXIS[self.view]
                array = np.flip(array, axis).copy()
                boxes = flip_boxes(boxes, axis, int(shape[axis]))
            array = augment_intensity(array, rng)
        target = {"labels": torch.as_tensor(labels, dtype=torch.long),
                  "boxes": torch.as_tensor(voxel_to_normalised(boxes, shape), dtype=torch.float32)}
        return torch.from_numpy(np.ascontiguousarray(array))[None], target

    def use_training_scans(self, items: list[TrainingScan]) -> None:
        """Nothing to index: each step trains on its batch's scans alone."""

    def loss(self, model: torch.nn.Module, items: list[TrainingScan], rng: np.random.Generator | None,
             device: torch.device) -> tuple[torch.Tensor, dict]:
        samples = [self.sample(s, rng if self.train["augment"] else None) for s in items]
        x = torch.stack([s[0] for s in samples]).to(device)
        targets = [{k: v.to(device) for k, v in s[1].items()} for s in samples]
        outputs = model(x, targets)
        return set_loss(outputs, targets, self.train["loss_weights"])
