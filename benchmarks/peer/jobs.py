"""The benchmark's jobs, each in a fresh (spawned) process so that its peak RSS is its own: RetinaNet training,
and inference timing of either detector over a study set."""

from __future__ import annotations

import json
import multiprocessing
import resource
import time
from pathlib import Path

import numpy as np

from spinedet.atomic import write_json
from spinedet.data.dataset import DISEASE_CLASSES, load_dataset


def in_subprocess(function, *args):
    """function(*args) in a spawned process; its returned dict plus the process's peak RSS (MiB)."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_measured, (function, *args))


def _measured(function, *args) -> dict:
    out = function(*args)
    return {**out, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def train_retinanet(set_path: str, view: str, budget_s: float, run_dir: str, options: dict) -> dict:
    """Train RetinaNet on the set's `train`-split scans of `view` for `budget_s` wall seconds in all (loading and
    resampling the scans included, as spinedet's stage time includes its preprocessing); save the weights
    (safetensors) and build arguments (JSON) under run_dir."""
    import torch
    import torch._dynamo  # noqa: F401 (the optimizer's first use imports it: seconds that are no training)
    from safetensors.torch import save_file

    from peer import data, retina

    start = time.perf_counter()
    torch.manual_seed(options.get("seed", 0))
    entries = [s for s in load_dataset(set_path)["scans"] if s["view"] == view and s.get("split") == "train"]
    samples = [data.load_sample(set_path, e, view) for e in entries]
    build = {"num_classes": len(DISEASE_CLASSES), "anchor_shapes": data.anchor_shapes(samples),
             "conv1_stride": list(data.CONV1_STRIDE), "backbone": options["backbone"], "widen": options["widen"],
             "fpn_channels": options["fpn_channels"]}
    detector = retina.build_detector(**build)
    load_s = time.perf_counter() - start
    info = retina.train(detector, samples, budget_s - load_s, options["batch_size"], data.FLIP_AXIS[view],
                        options.get("seed", 0))
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in detector.network.state_dict().items()}, str(Path(run_dir) / "model.safetensors"))
    meta = {"build": build, "view": view, "spacing_mm": data.SPACING_MM[view], "budget_s": budget_s,
            "train_scans": len(samples), "load_s": load_s, **info, "train_s": time.perf_counter() - start}
    write_json(Path(run_dir) / "model.json", meta)
    return meta


def _retinanet_predictor(run_dir: str):
    from safetensors.torch import load_file

    from peer import data, retina

    meta = json.loads((Path(run_dir) / "model.json").read_text())
    detector = retina.build_detector(**meta["build"])
    detector.network.load_state_dict(load_file(str(Path(run_dir) / "model.safetensors")))
    detector.eval()

    def predict(set_path, entry):
        sample = data.load_sample(set_path, entry, meta["view"])
        return data.to_findings(*retina.detect(detector, sample["image"]), sample), []

    return predict


def _spinedet_predictor(run_dir: str):
    from spinedet.data.dataset import image_path
    from spinedet.infer.predictor import Predictor, predict_scan
    from spinedet.io.load import load_scan

    predictor = Predictor.from_run(run_dir)

    def predict(set_path, entry):
        scan = load_scan(image_path(set_path, entry), view=entry["view"], region=entry["region"])
        return predict_scan([predictor], scan, entry["region"])

    return predict


def predict_sets(detector: str, run_dir: str, sets: dict[str, str], view: str, out_dir: str) -> dict:
    """Predict every `view` scan of each set (loading the file, preprocessing, model, boxes to LPS) and time it;
    predictions datasets go to out_dir/{set}.json. Returns {set: seconds per scan} and the model-load time."""
    from spinedet.infer import findings as F
    from spinedet.infer.predictor import SCAN_INFO_KEYS

    start = time.perf_counter()
    predict = (_retinanet_predictor if detector == "retinanet" else _spinedet_predictor)(run_dir)
    load_model_s = time.perf_counter() - start
    per_scan = {}
    for name, set_path in sets.items():
        data = load_dataset(set_path)
        entries = [s for s in data["scans"] if s["view"] == view]
        records, times = [], []
        for entry in entries:
            t = time.perf_counter()
            found, discs = predict(set_path, entry)
            times.append(time.perf_counter() - t)
            records.append(F.scan_record({k: entry[k] for k in SCAN_INFO_KEYS if k in entry}, found, discs))
        write_json(Path(out_dir) / f"{name}.json", F.predictions_dataset(records, data["classes"]))
        per_scan[name] = float(np.mean(times)) if times else None
    return {"infer_s_per_scan": per_scan, "load_model_s": load_model_s}
