"""The model a config describes: the level design (`model.kind` "levels") or the DETR head kept for comparison."""

from __future__ import annotations

from torch import nn

from spinedet.data.dataset import DISC_CLASS

KINDS = ("levels", "detr")


def model_kind(config: dict) -> str:
    kind = config["model"].get("kind", "detr")
    if kind not in KINDS:
        raise ValueError(f"model kind {kind!r} is not one of {KINDS}")
    return kind


def build_model(config: dict, classes: list[str], region: str, view: str) -> nn.Module:
    """A fresh model for a run's classes (disease classes, then "disc"), region and view."""
    if model_kind(config) == "levels":
        from spinedet.model.level_detector import build_level_detector

        return build_level_detector(config, [c for c in classes if c != DISC_CLASS], region, view)
    from spinedet.model.detector import build_detector

    return build_detector(config, len(classes), view)
