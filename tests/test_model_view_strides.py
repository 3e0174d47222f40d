"""DETR head: a view's own stage strides shape its feature grid, in training and when a saved run is loaded again."""

import torch

from spinedet.data.dataset import DISC_CLASS, DISEASE_CLASSES
from spinedet.model.detector import build_detector
from spinedet.model.run import load_run, save_run
from spinedet.train.config import load_config


def _grid(model, shape) -> tuple:
    with torch.no_grad():
        return tuple(model.backbone(torch.zeros(1, 1, *shape)).shape[2:])


def test_small_config_grids_per_view_survive_save_and_load(tmp_path):
    config = load_config("detr-small")
    classes = list(DISEASE_CLASSES) + [DISC_CLASS]
    sagittal_shape, axial_shape = config["input"]["sagittal"]["shape"], config["input"]["axial"]["shape"]
    sagittal = build_detector(config, len(classes), "sagittal")
    assert _grid(sagittal, sagittal_shape) == (4, 28, 8)  # 10 mm tokens along the spine (rows of 2.5 mm)
    assert _grid(build_detector(config, len(classes), "axial"), axial_shape) == (8, 8, 8)
    assert _grid(build_detector(config, len(classes)), sagittal_shape) == (4, 14, 8)  # the model section's default
    meta = {"config": config, "classes": classes, "view": "sagittal", "region": "lumbar", "threshold": 0.5,
            "preprocessing": {"sagittal": config["input"]["sagittal"]}}
    save_run(tmp_path, sagittal, meta)
    loaded, _ = load_run(tmp_path)
    assert _grid(loaded, sagittal_shape) == (4, 28, 8)
