"""SpineDETR: 3D ResNet18 features, transformer encoder, decoder queries with reference boxes refined per layer.

With `two_stage`, every encoder token proposes a box around its own grid cell and the decoder starts from the
best-scoring proposals (Deformable DETR's two-stage scheme); otherwise from learned reference points."""

from __future__ import annotations

import torch
from torch import nn

from spinedet.model.backbone import ResNet18_3d
from spinedet.model.box_ops import inverse_sigmoid
from spinedet.model.denoising import attention_mask, denoising_queries
from spinedet.model.position_encoding import grid_encoding, sine_encoding
from spinedet.model.transformer import DecoderLayer, EncoderLayer, mlp


class SpineDETR(nn.Module):
    """Outputs per query: `logits` (K sigmoid class logits, disease classes then disc) and `boxes`
    (normalised cz, cy, cx, d, h, w of the input extent), for the last decoder layer and in `aux` for the others;
    with `two_stage`, the encoder's proposals for every token in `enc` (trained, unused at inference)."""

    def __init__(self, num_classes: int, base_width: int, stem_stride, stage_strides, d_model: int, heads: int,
                 enc_layers: int, dec_layers: int, ffn: int, queries: int, dropout: float = 0.0, two_stage: bool = False,
                 dn_noise: float = 0.0):
        super().__init__()
        self.backbone = ResNet18_3d(base_width, stem_stride, stage_strides)
        self.neck = nn.Conv3d(self.backbone.out_channels, d_model, 1)
        self.encoder = nn.ModuleList(EncoderLayer(d_model, heads, ffn, dropout) for _ in range(enc_layers))
        self.decoder = nn.ModuleList(DecoderLayer(d_model, heads, ffn, dropout) for _ in range(dec_layers))
        self.query_content = nn.Embedding(queries, d_model)
        self.two_stage = two_stage
        if two_stage:
            self.enc_class = nn.Linear(d_model, num_classes)
            nn.init.constant_(self.enc_class.bias, -4.6)
            self.enc_box = mlp(d_model, d_model, 6, 3)
            nn.init.zeros_(self.enc_box[-1].weight)
            nn.init.zeros_(self.enc_box[-1].bias)
        else:
            self.query_reference = nn.Embedding(queries, 3)
            nn.init.uniform_(self.query_reference.weight, -2.0, 2.0)  # reference points spread over the volume
        self.query_pos = mlp(3 * (d_model // 3), d_model, d_model, 2)
        self.class_head = nn.Linear(d_model, num_classes)
        nn.init.constant_(self.class_head.bias, -4.6)  # prior probability 0.01, as focal-loss detectors start
        self.box_head = mlp(d_model, d_model, 6, 3)
        nn.init.zeros_(self.box_head[-1].weight)
        nn.init.zeros_(self.box_head[-1].bias)
        self.dn_noise = dn_noise
        if dn_noise > 0:
            self.label_embedding = nn.Embedding(num_classes, d_model)
        self.d_model, self.queries = d_model, queries

    def forward(self, x: torch.Tensor, targets: list[dict] | None = None) -> dict:
        """`targets` (training only) add denoising queries when the config enables them; their outputs go to `dn`."""
        features = self.neck(self.backbone(x))
        batch, _, *grid = features.shape
        memory = features.flatten(2).transpose(1, 2)
        pos = grid_encoding(grid, self.d_model, x.device).to(memory.dtype)[None].expand(batch, -1, -1)
        for layer in self.encoder:
            memory = layer(memory, pos)
        tgt = self.query_content.weight[None].expand(batch, -1, -1)
        extra = {}
        if self.two_stage:
            proposals = self._proposals(memory, grid)
            extra["enc"] = proposals
            best = proposals["logits"].max(-1).values.topk(self.queries, dim=1).indices
            reference = torch.gather(proposals["boxes"], 1, best[..., None].expand(-1, -1, 6)).detach()
        else:
            size = torch.full((self.queries, 3), 0.08, device=x.device)  # initial size ~0.08 of the extent
            reference = torch.cat([self.query_reference.weight.sigmoid(), size], -1)[None].expand(batch, -1, -1)
        n_dn, mask = 0, None
        if self.training and targets is not None and self.dn_noise > 0 and any(len(t["labels"]) for t in targets):
            dn_content, dn_reference, extra["dn_valid"] = denoising_queries(targets, self.label_embedding, self.dn_noise)
            n_dn = dn_content.shape[1]
            tgt, reference = torch.cat([dn_content, tgt], 1), torch.cat([dn_reference, reference], 1)
            mask = attention_mask(n_dn, self.queries, x.device)
        outputs = []
        for layer in self.decoder:
            query_pos = self.query_pos(sine_encoding(reference[..., :3], self.d_model // 3))
            tgt = layer(tgt, query_pos, memory, pos, attn_mask=mask)
            boxes = (inverse_sigmoid(reference) + self.box_head(tgt)).sigmoid()
            outputs.append({"logits": self.class_head(tgt), "boxes": boxes})
            reference = boxes.detach()
        if n_dn:
            extra["dn"] = [{k: v[:, :n_dn] for k, v in out.items()} for out in outputs]
            outputs = [{k: v[:, n_dn:] for k, v in out.items()} for out in outputs]
        return {**outputs[-1], "aux": outputs[:-1], **extra}

    def _proposals(self, memory: torch.Tensor, grid) -> dict:
        """Per encoder token, class logits and a box refined from its own cell (initially one cell)."""
        axes = [(torch.arange(n, device=memory.device, dtype=torch.float32) + 0.5) / n for n in grid]
        centres = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, 3)
        sizes = torch.tensor([min(0.9, 1.0 / n) for n in grid], device=memory.device).expand_as(centres)
        anchors = inverse_sigmoid(torch.cat([centres, sizes], -1))
        boxes = (anchors[None] + self.enc_box(memory).float()).sigmoid()
        return {"logits": self.enc_class(memory), "boxes": boxes}


def build_detector(config: dict, num_classes: int, view: str | None = None) -> SpineDETR:
    """The detector of a config's "model" section for `num_classes` (disease classes + disc).

    A view's input section may set its own `stage_strides` (its canonical axes differ: the spine runs along the
    rows of a sagittal stack and across the slices of an axial one).
    """
    m = config["model"]
    stage_strides = m["stage_strides"]
    if view is not None:
        stage_strides = config["input"].get(view, {}).get("stage_strides", stage_strides)
    return SpineDETR(
        num_classes=num_classes, base_width=m["base_width"], stem_stride=m["stem_stride"],
        stage_strides=stage_strides, d_model=m["d_model"], heads=m["heads"], enc_layers=m["enc_layers"],
        dec_layers=m["dec_layers"], ffn=m["ffn"], queries=m["queries"], dropout=m.get("dropout", 0.0), two_stage=m.get("two_stage", False),
        dn_noise=m.get("dn_noise", 0.0),
    )
