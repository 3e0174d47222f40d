"""The training loop: AdamW, warm-up + cosine, clipping, validation by CPM, best checkpoint, resume, DDP."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from spinedet import __version__
from spinedet.atomic import write_json
from spinedet.data.augment import LEFT_RIGHT_AXIS, augment_intensity, clip_boxes, flip_boxes, rotate_and_scale
from spinedet.data.dataset import DISC_CLASS, load_dataset
from spinedet.data.preprocess import crop_or_pad
from spinedet.errors import SpinedetError
from spinedet.model.box_ops import voxel_to_normalised
from spinedet.model.detector import build_detector
from spinedet.model.losses import set_loss
from spinedet.train import distributed
from spinedet.train.checkpoint import load_weights, read_meta, save_run
from spinedet.train.data import TrainingScan, load_training_scan
from spinedet.train.metrics_log import MetricsLog
from spinedet.train.state import load_state, save_state
from spinedet.train.validate import validate


@dataclass
class TrainRequest:
    dataset: Path
    view: str
    region: str
    config: dict
    out: Path
    epochs: int | None = None
    max_steps: int | None = None
    init: Path | None = None
    freeze: int = 0
    resume: bool = False
    seed: int = 0
    quiet: bool = False
    extra: dict = field(default_factory=dict)


def _sample(scan: TrainingScan, shape, view: str, rng: np.random.Generator | None, tcfg: dict):
    """A model-sized window of a training scan and its targets; augmented (shift, rotation, zoom, flip,
    intensity) when rng is given."""
    shape = np.asarray(shape)
    start = (np.asarray(scan.array.shape) - shape) // 2
    boxes = scan.boxes_voxel.copy()
    if rng is not None:
        start = start + np.round(rng.uniform(-tcfg["shift_frac"], tcfg["shift_frac"], 3) * shape).astype(int)
    array = crop_or_pad(scan.array, shape, start)
    boxes = np.concatenate([boxes[:, :3] - start, boxes[:, 3:] - start], axis=1)
    rotate_deg, scale_frac = tcfg.get("rotate_deg", 0), tcfg.get("scale_frac", 0)
    if rng is not None and (rotate_deg or scale_frac):
        array, boxes = rotate_and_scale(array, boxes, rng, rotate_deg, scale_frac)
    boxes, labels = clip_boxes(boxes, scan.labels, shape)
    if rng is not None:
        if rng.random() < 0.5:
            axis = LEFT_RIGHT_AXIS[view]
            array = np.flip(array, axis).copy()
            boxes = flip_boxes(boxes, axis, int(shape[axis]))
        array = augment_intensity(array, rng)
    target = {"labels": torch.as_tensor(labels, dtype=torch.long),
              "boxes": torch.as_tensor(voxel_to_normalised(boxes, shape), dtype=torch.float32)}
    return torch.from_numpy(np.ascontiguousarray(array))[None], target


def _select(data: dict, view: str, region: str, split: str) -> list[dict]:
    return [s for s in data["scans"] if s["view"] == view and s["region"] == region and s.get("split") == split]


def _init_from(model: torch.nn.Module, init: Path) -> int:
    """Copy every tensor of another run whose name and shape match; returns how many were copied."""
    read_meta(init)
    own = model.state_dict()
    matching = {k: v for k, v in load_weights(init).items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(matching, strict=False)
    return len(matching)


def _lr_lambda(total_steps: int, warmup_frac: float):
    warmup = max(1, int(warmup_frac * total_steps))
    return lambda step: (step + 1) / warmup if step < warmup else \
        0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total_steps - warmup))))


def train(req: TrainRequest) -> dict:
    """Train one model; returns the metadata written to model.json."""
    rank, world, device = distributed.setup()
    cfg, tcfg = req.config, req.config["train"]
    torch.manual_seed(req.seed)
    data = load_dataset(req.dataset)
    classes = list(data["classes"]) + [DISC_CLASS]
    pre = cfg["input"][req.view]
    train_entries = _select(data, req.view, req.region, "train")
    val_entries = _select(data, req.view, req.region, "val")
    if not train_entries:
        raise SpinedetError(f"{req.dataset}: no {req.region} {req.view} scans with split 'train'")
    scans = [load_training_scan(req.dataset, e, classes, pre["spacing_mm"])
             for e in tqdm(train_entries, desc="preprocess", disable=req.quiet or rank != 0, leave=False)]
    model = build_detector(cfg, len(classes), req.view)
    n_init = _init_from(model, req.init) if req.init else 0
    model.backbone.freeze(req.freeze)
    model.to(device)
    epochs = req.epochs if req.epochs is not None else tcfg["epochs"]
    batch = tcfg["batch_size"]
    steps_per_epoch = max(1, -(-len(scans) // (batch * world)))
    total_steps = epochs * steps_per_epoch  # the schedule's length; --max-steps only stops early
    stop_step = total_steps if req.max_steps is None else min(req.max_steps, total_steps)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=tcfg["lr"], weight_decay=tcfg["weight_decay"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(total_steps, tcfg["warmup_frac"]))
    ddp = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True) if world > 1 else model
    state_dir = req.out / "state"
    counters = {"step": 0, "epoch": 0, "next_batch": 0, "best_cpm": -1.0, "wall_s": 0.0}
    resuming = req.resume and (state_dir / "state.json").exists()
    if resuming:
        counters = load_state(state_dir, model, optimizer, scheduler)
    elif (req.out / "state").exists() or (req.out / "model.json").exists():
        raise SpinedetError(f"{req.out}: holds a run already (use another --out, or --resume to continue it)")
    if rank == 0:
        req.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "spinedet_version": __version__, "config": cfg, "classes": classes, "view": req.view, "region": req.region,
        "preprocessing": {req.view: pre, "intensity": "per scan: 1st..99th percentile -> 0..1"},
        "threshold": 0.5, "threshold_source": "default (no validation yet)",
        "training": {"dataset": str(req.dataset), "n_train_scans": len(train_entries), "n_val_scans": len(val_entries),
                     "centers": sorted({e["center"] for e in train_entries}), "init": str(req.init) if req.init else None,
                     "init_tensors": n_init, "freeze": req.freeze, "epochs": epochs, "world_size": world, "seed": req.seed},
    }
    if resuming and (req.out / "model.json").exists():
        meta.update({k: v for k, v in read_meta(req.out).items() if k in ("threshold", "threshold_source", "validation")})
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    start_time = time.perf_counter() - counters["wall_s"]
    metrics_rows = []
    metrics_log = MetricsLog(req.out) if rank == 0 else None
    progress = tqdm(total=stop_step, initial=counters["step"], desc=f"train {req.region} {req.view}",
                    disable=req.quiet or rank != 0)
    val_every = max(1, int(tcfg.get("val_every", 1)))
    while counters["step"] < stop_step:
        epoch = counters["epoch"]
        order = np.random.default_rng([req.seed, epoch]).permutation(len(scans)).tolist()
        mine = distributed.shard(order, rank, world)
        model.train()
        for b in range(counters["next_batch"], len(mine), batch):
            if counters["step"] >= stop_step:
                break
            rng = np.random.default_rng([req.seed, epoch, b, rank])
            samples = [_sample(scans[i], pre["shape"], req.view, rng if tcfg["augment"] else None, tcfg)
                       for i in mine[b:b + batch]]
            x = torch.stack([s[0] for s in samples]).to(device)
            targets = [{k: v.to(device) for k, v in s[1].items()} for s in samples]
            with autocast:
                outputs = ddp(x, targets)
            loss, parts = set_loss(outputs, targets, tcfg["loss_weights"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, tcfg["clip_norm"])
            optimizer.step()
            scheduler.step()
            counters["step"] += 1
            metrics_rows.append({"step": counters["step"], "epoch": epoch, "loss": float(loss.detach()),
                                 **{f"loss_{k}": v for k, v in parts.items()}, "lr": scheduler.get_last_lr()[0]})
            progress.update(1)
            progress.set_postfix(loss=f"{float(loss.detach()):.3f}")
            counters["next_batch"] = b + batch
        if counters["next_batch"] >= len(mine):
            counters["epoch"] += 1
            counters["next_batch"] = 0
        last = counters["step"] >= stop_step
        counters["wall_s"] = time.perf_counter() - start_time
        if rank == 0:
            if val_entries and (counters["epoch"] % val_every == 0 or last):
                result = validate(model, meta, req.dataset, val_entries)
                metrics_rows[-1].update({f"val_{k}": v for k, v in result.items() if isinstance(v, float)})
                if result["cpm"] > counters["best_cpm"]:
                    counters["best_cpm"] = result["cpm"]
                    meta.update(threshold=result["threshold"], threshold_source="F1-maximising on the validation split",
                                validation={**result, "epoch": counters["epoch"], "step": counters["step"]})
                    meta["training"].update(steps=counters["step"], wall_s=round(counters["wall_s"], 1))
                    save_run(req.out, model, meta)
            elif not val_entries and last:
                meta["threshold_source"] = "default 0.5 (no validation split)"
                meta["training"].update(steps=counters["step"], wall_s=round(counters["wall_s"], 1))
                save_run(req.out, model, meta)
            metrics_log.write(metrics_rows)
            metrics_rows = []
            save_state(state_dir, model, optimizer, scheduler, counters)
        distributed.barrier()
    progress.close()
    if metrics_log is not None:
        metrics_log.close()
    digests = distributed.all_digests(model)
    if rank == 0:
        if len(set(digests)) != 1:
            raise SpinedetError(f"DDP replicas diverged: weight digests {digests}")
        _mark_finished(req.out, digests)
    distributed.teardown()
    return read_meta(req.out)


def _mark_finished(run_dir: Path, digests: list[str]) -> None:
    """Mark model.json finished, with each DDP rank's final weight digest (all equal)."""
    meta = read_meta(run_dir)
    meta["training"].update(finished=True, replica_digests=digests)
    write_json(run_dir / "model.json", meta)

