"""What the grades of graded findings at true discs allow: (a) an ordinal logistic probe on a trained judge's
detached grade features, (b) a fresh 3D ResNet18 trained on the crops for grades alone. Quadratic kappa among
graded findings per evaluation set (issue 15's "kappa among found findings" with detection taken out).

    python benchmarks/grade_ceiling.py out/study/sets --run out/study/models/lumbar-sagittal --view sagittal

Without --run only (b), with the `small` config's judge (--config to change it).

About 6 min per view on one thread of the 2-core AVX2 machine. Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from spinedet.data.dataset import DISC_CLASS, load_dataset
from spinedet.data.grades import grade_counts
from spinedet.data.level_crops import disc_crops
from spinedet.eval.grade_metrics import quadratic_kappa
from spinedet.model.backbone import ResNet18_3d
from spinedet.model.ordinal import CumulativeThresholds, grade_probabilities, ordinal_loss, threshold_mask
from spinedet.model.run import load_run
from spinedet.train.config import load_config
from spinedet.train.level_task import LevelTask

SETS = ("internal", "external1", "external2", "external3")
BATCH = 16


def graded(c: int, crops: list[np.ndarray], grades: list[np.ndarray], features: list[np.ndarray] | None = None):
    """(crops, grades, features) of the discs whose class `c` finding is graded."""
    picked = [(n, k) for n, g in enumerate(grades) for k in np.nonzero(g[:, c] >= 0)[0]]
    x = np.array([crops[n][k] for n, k in picked])
    y = np.array([grades[n][k, c] for n, k in picked])
    return x, y, (np.array([features[n][k, c] for n, k in picked]) if features is not None else None)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sets", type=Path, help="the study's sets folder (lumbar-train.json, internal.json, ...)")
    p.add_argument("--run", type=Path, help="a trained lumbar run with the grade head, for the probe (a)")
    p.add_argument("--config", default="small", help="the judge's crop and jitter, where no --run is given")
    p.add_argument("--view", choices=("sagittal", "axial"), required=True)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--train-patients", type=int, help="the first N training patients only (a learning curve)")
    args = p.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if args.run:
        model, meta = load_run(args.run)
        model.eval()
        captured = {}
        model.judge.grade_score[0].register_forward_hook(lambda m, i, o: captured.__setitem__("x", i[0].detach()))
        config, classes = meta["config"], meta["classes"]
    else:
        config = load_config(args.config)
        classes = [*load_dataset(args.sets / "lumbar-train.json")["classes"], DISC_CLASS]
    task = LevelTask(config, classes, "lumbar", args.view)
    crop, jitter, classes = task.section["crop"], config["judge"]["jitter"], task.classes
    counts = grade_counts(classes)

    def items(name: str, split: str | None = None):
        path = args.sets / f"{name}.json"
        return [task.prepare(path, e) for e in load_dataset(path)["scans"]
                if e["view"] == args.view and (split is None or e.get("split") == split)]

    def at_true_discs(scans):
        crops, grades, features = [], [], []
        for it in (s for s in scans if len(s.truth.levels)):
            made = disc_crops(it.volume, it.truth.centres_lps, crop)
            crops.append(made.crops.numpy())
            grades.append(it.truth.grades)
            if args.run:
                with torch.no_grad():
                    model.judge(made.crops[None], torch.from_numpy(it.truth.levels)[None],
                                torch.ones(1, len(it.truth.levels), dtype=torch.bool))
                features.append(captured["x"].float().numpy().reshape(len(it.truth.levels), len(classes), -1))
        return crops, grades, features if args.run else None

    train_items = items("lumbar-train", "train")
    if args.train_patients:
        kept = sorted({it.scan_id.rsplit("-", 1)[0] for it in train_items})[: args.train_patients]
        train_items = [it for it in train_items if it.scan_id.rsplit("-", 1)[0] in kept]
    train = at_true_discs(train_items)
    evaluated = {name: at_true_discs(items(name)) for name in SETS if (args.sets / f"{name}.json").exists()}
    graded_classes = [c for c, n in enumerate(counts) if n]
    result = {classes[c]: {"training findings": np.bincount(graded(c, *train[:2])[1], minlength=counts[c]).tolist()}
              for c in graded_classes}

    for c in graded_classes if args.run else ():  # (a) the probe
        _, y, f = graded(c, *train)
        mean, std = f.mean(0), f.std(0) + 1e-6
        probe = LogisticRegression(max_iter=2000).fit((f - mean) / std, y)
        result[classes[c]]["probe"] = {}
        for name, data in evaluated.items():
            _, y, f = graded(c, *data)
            result[classes[c]]["probe"][name] = _kappa(y, probe.predict((f - mean) / std), counts[c])

    judge = config["judge"]
    trunk = ResNet18_3d(args.width, judge["stem_stride"], judge["stage_strides"], judge.get("norm", "batch"))
    score = torch.nn.Linear(2 * trunk.out_channels, len(classes))
    thresholds = CumulativeThresholds(counts)
    params = [*trunk.parameters(), *score.parameters(), *thresholds.parameters()]
    optimiser = torch.optim.AdamW(params, 1e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, 3e-3, total_steps=args.steps, pct_start=0.1)
    mask = threshold_mask(counts, max(counts) - 1)

    def logits(x: torch.Tensor) -> torch.Tensor:
        f = trunk(x[:, None]).flatten(2)
        return thresholds(score(torch.cat([f.mean(-1), f.amax(-1)], dim=1)))

    pool = [(it, k) for it in train_items for k in np.nonzero((it.truth.grades >= 0).any(1))[0]]
    for _ in range(args.steps):  # (b) the fresh trunk, on jittered crops of the graded findings
        picks = [pool[n] for n in rng.integers(0, len(pool), BATCH)]
        x = torch.cat([disc_crops(it.volume, it.truth.centres_lps, crop, rng, jitter, slice(k, k + 1)).crops
                       for it, k in picks])
        g = torch.from_numpy(np.stack([it.truth.grades[k] for it, k in picks]))
        out, keep = logits(x), g >= 0
        loss = ordinal_loss(out[keep], g[keep], mask.expand(BATCH, -1, -1)[keep].float())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    trunk.eval()
    for c in graded_classes:
        result[classes[c]]["fresh trunk"] = {}
        for name, data in evaluated.items():
            x, y, _ = graded(c, *data[:2])
            with torch.no_grad():
                predicted = grade_probabilities(logits(torch.from_numpy(x))[:, c], counts[c]).argmax(-1).numpy()
            result[classes[c]]["fresh trunk"][name] = _kappa(y, predicted, counts[c])
    print(json.dumps({"view": args.view, "run": str(args.run) if args.run else None, "steps": args.steps,
                      "training scans": len(train_items), **result}, indent=1))
    return 0


def _kappa(truth: np.ndarray, predicted: np.ndarray, count: int) -> list:
    """[findings, quadratic kappa] (kappa None where the truth has one grade only)."""
    if len(set(truth.tolist())) < 2:
        return [len(truth), None]
    return [len(truth), round(quadratic_kappa(truth, predicted, count), 3)]


if __name__ == "__main__":
    raise SystemExit(main())
