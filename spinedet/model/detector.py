"""SpineDETR: 3D ResNet18 features, transformer encoder, decoder queries with reference points refined per layer."""

from __future__ import annotations

import torch
from torch import nn

from spinedet.model.backbone import ResNet18_3d
from spinedet.model.box_ops import inverse_sigmoid
from spinedet.model.position_encoding import grid_encoding, sine_encoding
from spinedet.model.transformer import DecoderLayer, EncoderLayer, mlp


class SpineDETR(nn.Module):
    """Outputs per query: `logits` (K sigmoid class logits, disease classes then disc) and `boxes`
    (normalised cz, cy, cx, d, h, w of the input extent), for the last decoder layer and in `aux` for the others."""

    def __init__(self, num_classes: int, base_width: int, stem_stride, stage_strides, d_model: int, heads: int,
                 enc_layers: int, dec_layers: int, ffn: int, queries: int, dropout: float = 0.0):
        super().__init__()
        self.backbone = ResNet18_3d(base_width, stem_stride, stage_strides)
        self.neck = nn.Conv3d(self.backbone.out_channels, d_model, 1)
        self.encoder = nn.ModuleList(EncoderLayer(d_model, heads, ffn, dropout) for _ in range(enc_layers))
        self.decoder = nn.ModuleList(DecoderLayer(d_model, heads, ffn, dropout) for _ in range(dec_layers))
        self.query_content = nn.Embedding(queries, d_model)
        self.query_reference = nn.Embedding(queries, 3)
        nn.init.uniform_(self.query_reference.weight, -2.0, 2.0)  # reference points spread over the volume
        self.query_pos = mlp(3 * (d_model // 3), d_model, d_model, 2)
        self.class_head = nn.Linear(d_model, num_classes)
        nn.init.constant_(self.class_head.bias, -4.6)  # prior probability 0.01, as focal-loss detectors start
        self.box_head = mlp(d_model, d_model, 6, 3)
        nn.init.zeros_(self.box_head[-1].weight)
        nn.init.constant_(self.box_head[-1].bias, 0.0)
        with torch.no_grad():
            self.box_head[-1].bias[3:] = -2.5  # initial size ~0.08 of the extent
        self.d_model = d_model

    def forward(self, x: torch.Tensor) -> dict:
        features = self.neck(self.backbone(x))
        batch, _, *grid = features.shape
        memory = features.flatten(2).transpose(1, 2)
        pos = grid_encoding(grid, self.d_model, x.device).to(memory.dtype)[None].expand(batch, -1, -1)
        for layer in self.encoder:
            memory = layer(memory, pos)
        tgt = self.query_content.weight[None].expand(batch, -1, -1)
        reference = self.query_reference.weight.sigmoid()[None].expand(batch, -1, -1)
        outputs = []
        for layer in self.decoder:
            query_pos = self.query_pos(sine_encoding(reference, self.d_model // 3))
            tgt = layer(tgt, query_pos, memory, pos)
            delta = self.box_head(tgt)
            centre = (inverse_sigmoid(reference) + delta[..., :3]).sigmoid()
            boxes = torch.cat([centre, delta[..., 3:].sigmoid()], dim=-1)
            outputs.append({"logits": self.class_head(tgt), "boxes": boxes})
            reference = centre.detach()
        return {**outputs[-1], "aux": outputs[:-1]}


def build_detector(config: dict, num_classes: int) -> SpineDETR:
    """The detector of a config's "model" section for `num_classes` (disease classes + disc)."""
    m = config["model"]
    return SpineDETR(
        num_classes=num_classes, base_width=m["base_width"], stem_stride=m["stem_stride"],
        stage_strides=m["stage_strides"], d_model=m["d_model"], heads=m["heads"], enc_layers=m["enc_layers"],
        dec_layers=m["dec_layers"], ffn=m["ffn"], queries=m["queries"], dropout=m.get("dropout", 0.0),
    )
