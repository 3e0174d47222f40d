"""MONAI's 3D RetinaNet (monai.apps.detection) built, trained and applied as its LUNA16 tutorial does, sized for
this data: one resampled scan in, class-wise boxes out. Only MONAI's parts; the glue is data handling."""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from monai.apps.detection.networks.retinanet_detector import RetinaNetDetector
from monai.apps.detection.networks.retinanet_network import RetinaNet, resnet_fpn_feature_extractor
from monai.apps.detection.transforms.dictionary import RandFlipBoxd
from monai.apps.detection.utils.anchor_utils import AnchorGeneratorWithAnchorShape
from monai.networks.blocks.backbone_fpn_utils import BackboneWithFPN
from monai.networks.blocks.feature_pyramid_network import LastLevelMaxPool
from monai.networks.nets import resnet
from monai.transforms import Compose, RandScaleIntensityd, RandShiftIntensityd

from peer import no_torchvision

no_torchvision.install()

# The tutorial's settings (detection/config/config_train_luna16_16g.json, luna16_training.py) unless noted.
RETURNED_LAYERS = (1, 2)
NMS_IOU = 0.22
SCORE_FLOOR = 0.01  # tutorial 0.05 (validation) / 0.02 (testing); spinedet keeps its findings from 0.01 for the curves
LR, MOMENTUM, WEIGHT_DECAY = 1e-2, 0.9, 3e-5
WARMUP_FRAC, DECAY_AT_FRAC = 10 / 300, 150 / 300  # 10 warm-up epochs, x0.1 at epoch 150 of 300: here of the budget
BACKBONES = {  # name -> (block, layers): the tutorial's ResNet50 and the ResNet18 that fits a CPU budget
    "resnet50": (resnet.ResNetBottleneck, [3, 4, 6, 3]),
    "resnet18": (resnet.ResNetBlock, [2, 2, 2, 2]),
}


def feature_extractor(net: resnet.ResNet, fpn_channels: int):
    """The ResNet-FPN: `resnet_fpn_feature_extractor` at the tutorial's 256 channels, else the same MONAI
    BackboneWithFPN (returned layers, LastLevelMaxPool) at `fpn_channels` (that function fixes 256)."""
    if fpn_channels == 256:
        return resnet_fpn_feature_extractor(backbone=net, spatial_dims=3, pretrained_backbone=False,
                                            trainable_backbone_layers=None, returned_layers=list(RETURNED_LAYERS))
    stage2 = net.in_planes // 8  # as resnet_fpn_feature_extractor counts the returned layers' channels
    return BackboneWithFPN(net, {f"layer{k}": str(v) for v, k in enumerate(RETURNED_LAYERS)},
                           [stage2 * 2 ** (k - 1) for k in RETURNED_LAYERS], fpn_channels,
                           extra_blocks=LastLevelMaxPool(3), spatial_dims=3)


def build_detector(num_classes: int, anchor_shapes: list[list[float]], conv1_stride, backbone: str = "resnet18",
                   widen: float = 0.5, fpn_channels: int = 32) -> RetinaNetDetector:
    """RetinaNetDetector over a ResNet-FPN with the given base anchor shapes (voxels) and stem stride."""
    anchor_generator = AnchorGeneratorWithAnchorShape(
        feature_map_scales=[2**level for level in range(len(RETURNED_LAYERS) + 1)], base_anchor_shapes=anchor_shapes)
    block, layers = BACKBONES[backbone]
    net = resnet.ResNet(block=block, layers=layers, block_inplanes=resnet.get_inplanes(), n_input_channels=1,
                        conv1_t_stride=list(conv1_stride), conv1_t_size=[max(7, 2 * s + 1) for s in conv1_stride],
                        widen_factor=widen)
    extractor = feature_extractor(net, fpn_channels)
    size_divisible = [s * 2 * 2 ** max(RETURNED_LAYERS) for s in conv1_stride]
    network = RetinaNet(spatial_dims=3, num_classes=num_classes,
                        num_anchors=anchor_generator.num_anchors_per_location()[0], feature_extractor=extractor,
                        size_divisible=size_divisible)
    detector = RetinaNetDetector(network=network, anchor_generator=anchor_generator, debug=False)
    detector.set_atss_matcher(num_candidates=4, center_in_gt=False)
    detector.set_hard_negative_sampler(batch_size_per_image=64, positive_fraction=0.3, pool_size=20, min_neg=16)
    detector.set_target_keys(box_key="box", label_key="label")
    detector.set_box_selector_parameters(score_thresh=SCORE_FLOOR, topk_candidates_per_level=1000, nms_thresh=NMS_IOU,
                                         detections_per_img=100)
    return detector


def augmentation(flip_axis: int) -> Compose:
    """The tutorial's flips and intensity jitter, the flip only across the body's left-right axis (the spine is
    not symmetric head-foot or front-back); its random patch crop is left out: whole scans fit in a batch."""
    return Compose([
        RandFlipBoxd(image_keys="image", box_keys="box", box_ref_image_keys="image", prob=0.5, spatial_axis=flip_axis),
        RandScaleIntensityd(keys="image", prob=0.15, factors=0.25),
        RandShiftIntensityd(keys="image", prob=0.15, offsets=0.1),
    ])


def lr_factor(elapsed_s: float, budget_s: float) -> float:
    """The tutorial's schedule on the clock: linear warm-up, then x0.1 from half the budget on."""
    frac = elapsed_s / max(budget_s, 1e-9)
    return min(1.0, frac / WARMUP_FRAC) if frac < WARMUP_FRAC else (1.0 if frac < DECAY_AT_FRAC else 0.1)


def train(detector: RetinaNetDetector, samples: list[dict], budget_s: float, batch_size: int, flip_axis: int,
          seed: int = 0) -> dict:
    """Train on `samples` ({"image": (1, D, H, W) tensor, "box": (N, 6), "label": (N,)}) until `budget_s`
    wall seconds have passed; SGD (Nesterov) as the tutorial. Returns steps, seconds, last losses."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    transform = augmentation(flip_axis)
    transform.set_random_state(seed=seed)
    optimizer = torch.optim.SGD(detector.network.parameters(), LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY,
                                nesterov=True)
    detector.train()
    start, steps, order, losses = time.perf_counter(), 0, [], {}
    while (elapsed := time.perf_counter() - start) < budget_s or steps == 0:  # at least one step
        for group in optimizer.param_groups:
            group["lr"] = LR * max(lr_factor(elapsed, budget_s), 1e-3)
        while len(order) < batch_size:
            order += rng.permutation(len(samples)).tolist()
        batch = [transform({k: samples[n][k].clone() for k in ("image", "box", "label")})
                 for n in (order.pop() for _ in range(batch_size))]
        out = detector([b["image"] for b in batch], [{"box": b["box"], "label": b["label"]} for b in batch])
        loss = out[detector.cls_key] + out[detector.box_reg_key]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        steps += 1
        losses = {"cls": float(out[detector.cls_key].detach()), "box_reg": float(out[detector.box_reg_key].detach())}
        if not math.isfinite(float(loss)):
            raise FloatingPointError(f"RetinaNet loss became {float(loss)} at step {steps}")
    return {"steps": steps, "train_loop_s": time.perf_counter() - start, "last_losses": losses}


@torch.no_grad()
def detect(detector: RetinaNetDetector, image: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(boxes (N, 6) in MONAI voxel corners of the input, labels (N,), scores (N,)) of one (1, D, H, W) image."""
    detector.eval()
    out = detector([image], use_inferer=False)[0]
    return (out[detector.target_box_key].float().numpy(), out[detector.target_label_key].numpy(),
            out[detector.pred_score_key].float().numpy())
