"""Ceiling of the level judge: trained and evaluated on crops at the TRUE disc positions (no level finder).

    python benchmarks/judge_ceiling.py DATASET --view sagittal --region lumbar [--steps 600] [--train-patients N]

Trains the judge of a config alone on the dataset's `train` scans and reports, every --eval-every steps, F1 on
the `val` scans as the study computes it (class-agnostic disease boxes, IoU >= 0.1, at the F1-maximising
threshold) and the F1 of presence per (level, class), with the wall seconds so far. What it measures: how well
the per-level stage can do when every disc is found and named right (the finder's errors come on top).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from spinedet.data.dataset import image_path, load_dataset
from spinedet.data.level_crops import CropVolume, disc_crops, resampled_affine
from spinedet.data.level_targets import level_truth
from spinedet.data.levels import ALL_LEVELS
from spinedet.data.crops import boxes_through
from spinedet.eval import best_f1_threshold, evaluate
from spinedet.model.box_ops import centre_size_to_voxel
from spinedet.model.level_judge import LevelJudge
from spinedet.model.level_losses import judge_loss
from spinedet.model.precision import autocast
from spinedet.train.config import load_config
from spinedet.train.data import resampled_scan
from spinedet.train.level_batches import FindingIndex, judge_batch


def load_items(dataset_path: Path, entries: list[dict], crop: dict, classes: list[str]):
    items = []
    for e in entries:
        array, factor, affine = resampled_scan(image_path(dataset_path, e), e["view"], e["region"], crop["spacing_mm"])
        truth = level_truth(e, classes)
        if len(truth.levels):
            items.append((CropVolume(array, resampled_affine(affine, factor), e["view"]), truth, e))
    return items


@torch.no_grad()
def predict(model, items, crop, classes, config, level_factor: int = 1) -> dict:
    model.eval()
    scans = []
    for volume, truth, entry in items:
        made = disc_crops(volume, truth.centres_lps, crop)
        with autocast(config, torch.device("cpu")):
            out = model(made.crops[None], torch.from_numpy(truth.levels)[None] * level_factor,
                        torch.ones(1, len(truth.levels), dtype=torch.bool))
        probs = out["logits"][0].float().sigmoid()
        voxel = centre_size_to_voxel(out["boxes"][0].float(), crop["shape"])
        world = boxes_through(voxel, torch.from_numpy(made.crop_to_world).float()).numpy()
        findings = [{"class": classes[j], "level": ALL_LEVELS[truth.levels[i]], "score": float(probs[i, j]),
                     "box_lps": [float(v) for v in world[i, j]]}
                    for i in range(len(truth.levels)) for j in range(len(classes))]
        scans.append({**{k: entry[k] for k in ("id", "patient", "center", "region", "view")}, "findings": findings})
    model.train()
    return {"classes": classes, "scans": scans}


def presence_f1(items, predictions, threshold: float) -> float:
    tp = fp = fn = 0
    for (_, truth, _), scan in zip(items, predictions["scans"]):
        scores = np.array([f["score"] for f in scan["findings"]]).reshape(truth.presence.shape)
        hit = scores >= threshold
        tp += int((hit & (truth.presence > 0)).sum())
        fp += int((hit & (truth.presence == 0)).sum())
        fn += int((~hit & (truth.presence > 0)).sum())
    return 2 * tp / max(2 * tp + fp + fn, 1)


def class_auc(items, predictions) -> list[float]:
    """Per class, the area under the ROC curve of presence per level (Mann-Whitney U / (n+ n-))."""
    from scipy.stats import mannwhitneyu

    scores = np.concatenate([np.array([f["score"] for f in s["findings"]]).reshape(t.presence.shape)
                             for (_, t, _), s in zip(items, predictions["scans"])])
    truth = np.concatenate([t.presence for _, t, _ in items]) > 0
    return [float(mannwhitneyu(scores[truth[:, c], c], scores[~truth[:, c], c]).statistic
                  / (truth[:, c].sum() * (~truth[:, c]).sum())) if 0 < truth[:, c].sum() < len(truth) else float("nan")
            for c in range(truth.shape[1])]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", type=Path)
    p.add_argument("--view", default="sagittal")
    p.add_argument("--region", default="lumbar")
    p.add_argument("--config", default="small")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--train-patients", type=int, help="use only the first N training patients")
    p.add_argument("--override", default="{}", help="JSON merged into the config's judge section")
    p.add_argument("--train-override", default="{}", help="JSON merged into the config's train section")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-dataset", type=Path, help="validate on this dataset's `val` scans (default: DATASET's)")
    p.add_argument("--no-levels", action="store_true", help="give every crop the same level (no level prior)")
    args = p.parse_args()
    torch.manual_seed(args.seed)
    config = load_config(args.config)
    jcfg = {**config["judge"], **json.loads(args.override)}
    crop = config["input"][args.region][args.view]["crop"]
    data = load_dataset(args.dataset)
    classes = list(data["classes"])
    pick = lambda data, split: [s for s in data["scans"] if s["view"] == args.view  # noqa: E731
                                and s["region"] == args.region and s.get("split") == split]
    t0 = time.perf_counter()
    train_items = load_items(args.dataset, pick(data, "train")[: args.train_patients], crop, classes)
    val_path = args.val_dataset or args.dataset
    val_items = load_items(val_path, pick(load_dataset(val_path), "val"), crop, classes)
    print(f"loaded {len(train_items)} train / {len(val_items)} val scans in {time.perf_counter() - t0:.0f} s", flush=True)
    model = LevelJudge(len(classes), jcfg["base_width"], jcfg["stem_stride"], jcfg["stage_strides"], jcfg["d_model"],
                       jcfg["heads"], jcfg["layers"], jcfg["ffn"], jcfg.get("dropout", 0.0), jcfg.get("norm", "batch"), jcfg.get("decoder_width", 32))
    tcfg = {**config["train"], **json.loads(args.train_override)}
    device = torch.device("cpu")
    model = model.to(memory_format=torch.channels_last_3d)
    optimizer = torch.optim.AdamW(model.parameters(), lr=tcfg["lr"], weight_decay=tcfg["weight_decay"])
    warm = max(1, int(0.05 * args.steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + np.cos(np.pi * (s - warm) / max(1, args.steps - warm))))
    rng = np.random.default_rng(args.seed)
    level_factor = 0 if args.no_levels else 1
    index = FindingIndex([truth for _, truth, _ in train_items])
    scans = jcfg.get("scans_per_step") or tcfg["batch_size"]
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        draws = index.draw(scans, rng, float(jcfg.get("focus_p", 0.0)))
        inputs, target = judge_batch([train_items[n][:2] for n, _ in draws], crop, rng, jcfg.get("jitter"), True,
                                     jcfg.get("discs_per_scan"), tcfg.get("randomise"), [d for _, d in draws])
        with autocast(config, device):
            out = model(inputs["crops"], inputs["levels"] * level_factor, inputs["valid"])
            loss, parts = judge_loss(out, target, crop["shape"], tcfg["loss_weights"])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg["clip_norm"])
        optimizer.step()
        scheduler.step()
        if step % args.eval_every == 0 or step == args.steps:
            train_s = time.perf_counter() - start
            preds = predict(model, val_items, crop, classes, config, level_factor)
            truth = {"classes": classes, "scans": [e for _, _, e in val_items]}
            thr = best_f1_threshold(truth, preds, warn=False)
            m = evaluate(truth, preds, score_threshold=thr)
            print(f"step {step:5d}  train {train_s:6.0f} s  loss {float(loss.detach()):.3f} {json.dumps({k: round(v, 3) for k, v in parts.items()})}"
                  f"  val F1 {m['f1']:.3f} (P {m['precision']:.2f} R {m['recall']:.2f}) CPM {m['cpm']:.3f}"
                  f"  presence F1 {presence_f1(val_items, preds, thr):.3f} at {thr:.2f}"
                  f"  AUC per class {[round(a, 3) for a in class_auc(val_items, preds)]}", flush=True)
            start = time.perf_counter() - train_s


if __name__ == "__main__":
    main()
