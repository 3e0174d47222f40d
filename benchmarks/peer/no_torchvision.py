"""The torchvision helpers that MONAI's RetinaNet parts import lazily, for an environment without torchvision.

PyPI's torchvision wheels that match torch 2.13.0 are CUDA builds and fail to import beside the CPU torch the
project pins ("operator torchvision::nms does not exist"), so `resnet_fpn_feature_extractor` would stop at its
first torchvision call. The stand-ins do what torchvision's do (its IoU Matcher is not used: the ATSS matcher is);
nothing else of MONAI's detector changes.
"""

from __future__ import annotations

from collections import OrderedDict
from types import SimpleNamespace

from torch import nn


class IntermediateLayerGetter(nn.ModuleDict):
    """torchvision.models._utils.IntermediateLayerGetter: run a model's children in order up to the last of
    `return_layers` and return {new name: output} of those."""

    def __init__(self, model: nn.Module, return_layers: dict[str, str]):
        wanted, layers = dict(return_layers), OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            wanted.pop(name, None)
            if not wanted:
                break
        super().__init__(layers)
        self.return_layers = dict(return_layers)

    def forward(self, x):
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


def validate_trainable_layers(pretrained: bool, trainable: int | None, max_value: int, default_value: int) -> int:
    """torchvision's _validate_trainable_layers: all layers train when not pretrained."""
    if not pretrained:
        return max_value
    return default_value if trainable is None else trainable


class UnusedMatcher:
    """Stands for torchvision's IoU Matcher, which RetinaNetDetector only names in an isinstance check when the
    ATSS matcher is set."""


def install() -> None:
    """Point MONAI's lazy torchvision imports at the stand-ins (only when torchvision cannot be imported)."""
    try:
        import torchvision  # noqa: F401

        return
    except Exception:  # noqa: BLE001 (absent, or the CUDA build beside a CPU torch)
        pass
    from monai.apps.detection.networks import retinanet_detector, retinanet_network
    from monai.networks.blocks import backbone_fpn_utils

    backbone_fpn_utils.torchvision_models = SimpleNamespace(_utils=SimpleNamespace(
        IntermediateLayerGetter=IntermediateLayerGetter))
    retinanet_network._validate_trainable_layers = validate_trainable_layers
    retinanet_detector.Matcher = UnusedMatcher
