"""The training loop: AdamW, warm-up + cosine, clipping, validation, resume, DDP.

`train` reads as its steps: open the session (data, model, optimizer, or the saved state to resume), run epochs of
optimizer steps, and at each epoch's end validate when due, keep the validated weights with the threshold chosen there
and save the state; then finish. The run's model is the one at the end of the schedule, not the one of best
validation CPM: on the quick study's lumbar models (1080 steps) the end scored higher F1 on every external set
than the best-CPM checkpoint, which a few patients' CPM had picked at step 720 (docs/model.md)."""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch

from spinedet import __version__
from spinedet.atomic import write_json
from spinedet.data.dataset import DISC_CLASS, load_dataset
from spinedet.errors import SpinedetError
from spinedet.model.backbone import ResNet18_3d
from spinedet.model.build import build_model, model_kind
from spinedet.model.run import load_weights, read_meta, save_run
from spinedet.train import distributed
from spinedet.train.detr_task import DetrTask
from spinedet.train.level_task import LevelTask
from spinedet.progress import progress, progress_bar
from spinedet.train.metrics_log import MetricsLog
from spinedet.model.precision import autocast, prepare_model
from spinedet.train.state import has_state, load_state, save_state
from spinedet.train.validate import validate

TASKS = {"levels": LevelTask, "detr": DetrTask}


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


@dataclass
class Session:
    """Everything one training holds between steps."""

    req: TrainRequest
    rank: int
    world: int
    device: torch.device
    task: object
    items: list
    val_entries: list[dict]
    model: torch.nn.Module
    ddp: torch.nn.Module
    params: list  # trainable parameters, one list per part whose gradient norm is clipped on its own
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    meta: dict
    stop_step: int
    counters: dict = field(default_factory=lambda: {"step": 0, "epoch": 0, "next_batch": 0,
                                                    "wall_s": 0.0})


def _select(data: dict, view: str, region: str, split: str) -> list[dict]:
    return [s for s in data["scans"] if s["view"] == view and s["region"] == region and s.get("split") == split]


def _init_from(model: torch.nn.Module, init: Path, skip: tuple[str, ...] = ()) -> int:
    """Copy every tensor of another run whose name and shape match, except those whose name starts with one of
    `skip` (`train.init_skip`: parts that learn afresh); returns how many were copied."""
    read_meta(init)
    own = model.state_dict()
    matching = {k: v for k, v in load_weights(init).items()
                if k in own and own[k].shape == v.shape and not k.startswith(tuple(skip))}
    model.load_state_dict(matching, strict=False)
    return len(matching)


def _freeze(model: torch.nn.Module, n_stages: int) -> None:
    """Freeze the first `n_stages` (stem, stage 1, ...) of every backbone of the model."""
    for module in model.modules():
        if isinstance(module, ResNet18_3d):
            module.freeze(n_stages)


def clip_groups(model: torch.nn.Module) -> list[list[torch.nn.Parameter]]:
    """Trainable parameters by part: the level design's finder, judge and grade head apart (one norm over finder and
    judge let the finder's large early gradients shrink every judge step; the grade head's gradient must not scale
    the judge's), any other model as one group."""
    if not (hasattr(model, "finder") and hasattr(model, "judge")):
        return [[p for p in model.parameters() if p.requires_grad]]
    grade = model.judge.grade_parameters()
    graded = {id(p) for p in grade}
    groups = [list(model.finder.parameters()), [p for p in model.judge.parameters() if id(p) not in graded], grade]
    return [[p for p in group if p.requires_grad] for group in groups if group]


def lr_groups(model: torch.nn.Module, tcfg: dict) -> list[dict]:
    """The optimiser's parameter groups: the grade head learns at `train.grade_lr_scale` times the rate of the rest."""
    grade = model.judge.grade_parameters() if hasattr(model, "judge") else []
    graded = {id(p) for p in grade}
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in graded]
    scaled = [{"params": grade, "lr": tcfg["lr"] * float(tcfg.get("grade_lr_scale", 1.0))}] if grade else []
    return [{"params": rest}, *scaled]


def config_epochs(tcfg: dict, steps_per_epoch: int) -> int:
    """The config's epochs, raised where a small training set would get fewer than `train.min_steps` steps."""
    return max(int(tcfg["epochs"]), -(-int(tcfg.get("min_steps", 0)) // steps_per_epoch))


def _lr_lambda(total_steps: int, warmup_frac: float):
    warmup = max(1, int(warmup_frac * total_steps))
    return lambda step: (step + 1) / warmup if step < warmup else \
        0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total_steps - warmup))))


def _meta(req: TrainRequest, task, classes: list[str], train_entries, val_entries, n_init: int, epochs: int,
          world: int) -> dict:
    return {
        "spinedet_version": __version__, "config": req.config, "classes": classes, "view": req.view,
        "region": req.region,
        "preprocessing": {req.view: task.preprocessing(), "intensity": "per scan: 1st..99th percentile -> 0..1"},
        "threshold": 0.5, "threshold_source": "default (no validation yet)",
        "training": {"dataset": str(req.dataset), "n_train_scans": len(train_entries), "n_val_scans": len(val_entries),
                     "centers": sorted({e["center"] for e in train_entries}), "init": str(req.init) if req.init else None,
                     "init_tensors": n_init, "freeze": req.freeze, "epochs": epochs, "world_size": world,
                     "seed": req.seed},
    }


POOL_MIN_SCANS = 16  # fewer scans are prepared in this process: starting workers would cost more than it saves


def _one_thread() -> None:
    torch.set_num_threads(1)


def prepare_all(task, dataset: Path, entries: list[dict], quiet: bool = False) -> list:
    """Every training scan prepared (loaded, resampled, cached), in one worker process per core when there are many
    (spawned: the resampling runs in torch, whose threads do not survive a fork)."""
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(entries) < POOL_MIN_SCANS:
        return [task.prepare(dataset, e) for e in progress(entries, "preprocess", disable=quiet)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread) as pool:
        prepared = pool.map(partial(task.prepare, dataset), entries, chunksize=4)
        return list(progress(prepared, "preprocess", total=len(entries), disable=quiet))


def open_session(req: TrainRequest) -> Session:
    """Data, model, optimizer and schedule of a training, or its saved state when resuming."""
    rank, world, device = distributed.setup()
    cfg, tcfg = req.config, req.config["train"]
    torch.manual_seed(req.seed)
    data = load_dataset(req.dataset)
    classes = list(data["classes"]) + [DISC_CLASS]
    task = TASKS[model_kind(cfg)](cfg, classes, req.region, req.view)
    train_entries = _select(data, req.view, req.region, "train")
    val_entries = _select(data, req.view, req.region, "val")
    if not train_entries:
        raise SpinedetError(f"{req.dataset}: no {req.region} {req.view} scans with split 'train'")
    items = prepare_all(task, req.dataset, train_entries, quiet=req.quiet or rank != 0)
    task.use_training_scans(items)
    model = build_model(cfg, classes, req.region, req.view)
    n_init = _init_from(model, req.init, tuple(req.config["train"].get("init_skip", ()))) if req.init else 0
    _freeze(model, req.freeze)
    torch.manual_seed(req.seed)  # training's own random draws (the finder's position jitter) whatever building drew
    if world > 1 and device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)  # batch statistics over every rank's crops
    model = prepare_model(model, cfg, device)
    steps_per_epoch = max(1, -(-len(items) // (tcfg["batch_size"] * world)))
    epochs = req.epochs if req.epochs is not None else config_epochs(tcfg, steps_per_epoch)
    total_steps = epochs * steps_per_epoch  # the schedule's length; --max-steps only stops early
    params = clip_groups(model)
    optimizer = torch.optim.AdamW(lr_groups(model, tcfg), lr=tcfg["lr"], weight_decay=tcfg["weight_decay"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(total_steps, tcfg["warmup_frac"]))
    ddp = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True) if world > 1 else model
    session = Session(req, rank, world, device, task, items, val_entries, model, ddp, params, optimizer, scheduler,
                      _meta(req, task, classes, train_entries, val_entries, n_init, epochs, world),
                      total_steps if req.max_steps is None else min(req.max_steps, total_steps))
    state_dir = req.out / "state"  # --resume of a run killed before its first saved state starts it afresh
    if req.resume and has_state(state_dir):
        session.counters = load_state(state_dir, model, optimizer, scheduler)
        if (req.out / "model.json").exists():
            kept = ("threshold", "threshold_source", "validation")
            session.meta.update({k: v for k, v in read_meta(req.out).items() if k in kept})
    elif not req.resume and (state_dir.exists() or (req.out / "model.json").exists()):
        raise SpinedetError(f"{req.out}: holds a run already (use another --out, or --resume to continue it)")
    if rank == 0:
        req.out.mkdir(parents=True, exist_ok=True)
    return session


def run_epoch(s: Session, bar, metrics_rows: list[dict], started: float) -> None:
    """Optimizer steps over this rank's share of the epoch's shuffled scans, from where the epoch stood."""
    c, batch = s.counters, s.req.config["train"]["batch_size"]
    order = np.random.default_rng([s.req.seed, c["epoch"]]).permutation(len(s.items)).tolist()
    mine = distributed.shard(order, s.rank, s.world)
    s.model.train()
    for b in range(c["next_batch"], len(mine), batch):
        if c["step"] >= s.stop_step:
            return
        rng = np.random.default_rng([s.req.seed, c["epoch"], b, s.rank])
        with autocast(s.req.config, s.device):
            loss, parts = s.task.loss(s.ddp, [s.items[i] for i in mine[b:b + batch]], rng, s.device)
        if not torch.isfinite(loss):
            raise SpinedetError(f"{s.req.out}: training loss is not finite at step {c['step'] + 1} "
                                f"({', '.join(f'{k} {v:.3g}' for k, v in parts.items())}); lower train.lr or turn off "
                                "train.cpu_bf16")
        s.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        for group in s.params:
            torch.nn.utils.clip_grad_norm_(group, s.req.config["train"]["clip_norm"])
        s.optimizer.step()
        s.scheduler.step()
        c["step"] += 1
        c["next_batch"] = b + batch
        metrics_rows.append({"step": c["step"], "epoch": c["epoch"], "wall_s": round(time.perf_counter() - started, 2),
                             "loss": float(loss.detach()),
                             **{f"loss_{k}": v for k, v in parts.items()}, "lr": s.scheduler.get_last_lr()[0]})
        bar.update(1)
        bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
    c["epoch"] += 1
    c["next_batch"] = 0


def end_epoch(s: Session, metrics_rows: list[dict], started: float) -> None:
    """Rank 0: validate when due and keep those weights as the run's model with the threshold chosen on validation,
    save the state to resume from."""
    c, req = s.counters, s.req
    last = c["step"] >= s.stop_step
    c["wall_s"] = time.perf_counter() - started
    if s.rank != 0:
        return
    val_every = max(1, int(req.config["train"].get("val_every", 1)))
    if s.val_entries and (c["epoch"] % val_every == 0 or last):
        result = validate(s.model, s.meta, req.dataset, s.val_entries)
        metrics_rows[-1].update({f"val_{k}": v for k, v in result.items() if isinstance(v, float)})
        s.meta.update(threshold=result["threshold"], threshold_source="F1-maximising on the validation split",
                      validation={**result, "epoch": c["epoch"], "step": c["step"]})
        s.meta["training"].update(steps=c["step"], wall_s=round(c["wall_s"], 1))
        save_run(req.out, s.model, s.meta)
    elif not s.val_entries and last:
        s.meta["threshold_source"] = "default 0.5 (no validation split)"
        s.meta["training"].update(steps=c["step"], wall_s=round(c["wall_s"], 1))
        save_run(req.out, s.model, s.meta)
    save_state(req.out / "state", s.model, s.optimizer, s.scheduler, c)


def finish(s: Session) -> dict:
    """Check that DDP replicas agree, mark model.json finished; returns it."""
    distributed.broadcast_buffers(s.model)
    digests = distributed.all_digests(s.model)
    if s.rank == 0:
        if len(set(digests)) != 1:
            raise SpinedetError(f"DDP replicas diverged: weight digests {digests}")
        meta = read_meta(s.req.out)
        meta["training"].update(finished=True, replica_digests=digests)
        write_json(s.req.out / "model.json", meta)
    distributed.teardown()
    return read_meta(s.req.out)


def train(req: TrainRequest) -> dict:
    """Train one model; returns the metadata written to model.json."""
    s = open_session(req)
    started = time.perf_counter() - s.counters["wall_s"]
    metrics_log = MetricsLog(req.out) if s.rank == 0 else None
    bar = progress_bar(s.stop_step, f"train {req.region} {req.view}", initial=s.counters["step"], unit="step",
                       disable=req.quiet or s.rank != 0)
    while s.counters["step"] < s.stop_step:
        rows: list[dict] = []
        run_epoch(s, bar, rows, started)
        if rows:
            end_epoch(s, rows, started)
        if metrics_log is not None:
            metrics_log.write(rows)
        distributed.barrier()
    bar.close()
    if metrics_log is not None:
        metrics_log.close()
    return finish(s)
