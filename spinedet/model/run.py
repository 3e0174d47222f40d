"""Runs on disk: model.safetensors + model.json, written atomically; loading never unpickles.

Here, below both training and inference, so that each reaches the format without importing the other."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from spinedet.atomic import atomic_path, write_json
from spinedet.data.dataset import REGIONS, VIEWS
from spinedet.errors import InputError
from spinedet.model.build import build_model
from spinedet.model.grade_trunk import legacy_trunk_keys

MODEL_FORMAT = "spinedet-model/1"


def save_run(run_dir: str | Path, model: torch.nn.Module, meta: dict) -> None:
    """Write the weights then the JSON (whose presence marks a complete checkpoint)."""
    run_dir = Path(run_dir)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(run_dir / "model.safetensors") as tmp:
        save_file(state, str(tmp))
    write_json(run_dir / "model.json", {"format": MODEL_FORMAT, **meta})


def read_meta(run_dir: str | Path) -> dict:
    path = Path(run_dir) / "model.json"
    if not path.is_file():
        raise InputError(run_dir, "is not a spinedet run (no model.json)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise InputError(path, "must hold a JSON object")
    if meta.get("format") != MODEL_FORMAT:
        raise InputError(path, f"format {meta.get('format')!r} is not {MODEL_FORMAT!r}")
    if problem := _meta_problem(meta):
        raise InputError(path, problem)
    return meta


def _meta_problem(meta: dict) -> str | None:
    """What a model.json lacks for building its model, or None."""
    config, classes = meta.get("config"), meta.get("classes")
    if not isinstance(config, dict) or not all(isinstance(config.get(k), dict) for k in ("model", "input", "train")):
        return "config: must be an object with 'model', 'input' and 'train' sections"
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        return "classes: must be a non-empty list of class names"
    if meta.get("region") not in REGIONS:
        return f"region: {meta.get('region')!r} is not one of {list(REGIONS)}"
    if meta.get("view") not in VIEWS:
        return f"view: {meta.get('view')!r} is not one of {list(VIEWS)}"
    if not isinstance(meta.get("preprocessing", {}), dict):
        return "preprocessing: must be an object"
    threshold = meta.get("threshold")
    if threshold is not None and not (isinstance(threshold, (int, float)) and 0 <= threshold <= 1):
        return f"threshold: {threshold!r} must be a number in [0, 1]"
    return None


def load_weights(run_dir: str | Path) -> dict[str, torch.Tensor]:
    """The run's tensors by name, a grade trunk saved before several trunks renamed to today's name."""
    path = Path(run_dir) / "model.safetensors"
    if not path.is_file():
        raise InputError(run_dir, "has model.json but no model.safetensors")
    try:
        weights = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise InputError(path, f"cannot be read as safetensors ({exc})") from None
    return legacy_trunk_keys(weights)


def load_run(run_dir: str | Path) -> tuple[torch.nn.Module, dict]:
    """The model (eval mode, CPU) and its metadata."""
    meta = read_meta(run_dir)
    try:
        model = build_model(meta["config"], meta["classes"], meta["region"], meta["view"])
    except Exception as exc:  # noqa: BLE001 - a config from elsewhere fails in many ways; all are bad input
        raise InputError(Path(run_dir) / "model.json", f"config does not build a model ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:120]})") from None
    weights = load_weights(run_dir)
    expected = model.state_dict()
    missing = [k for k in expected if k not in weights]
    unexpected = [k for k in weights if k not in expected]
    if missing or unexpected:
        raise InputError(run_dir, f"weights do not fit the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    for key, tensor in expected.items():
        if tuple(weights[key].shape) != tuple(tensor.shape):
            raise InputError(run_dir, f"weights do not fit the config: {key} has shape {tuple(weights[key].shape)} in "
                             f"model.safetensors, {tuple(tensor.shape)} by model.json")
    model.load_state_dict(weights)
    return model.eval(), meta
