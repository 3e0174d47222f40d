"""Runs on disk: model.safetensors + model.json, written atomically; loading never unpickles.

Here, below both training and inference, so that each reaches the format without importing the other."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from spinedet.atomic import atomic_path, write_json
from spinedet.errors import InputError
from spinedet.model.build import build_model

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
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(path, f"is not valid JSON ({exc})") from None
    if meta.get("format") != MODEL_FORMAT:
        raise InputError(path, f"format {meta.get('format')!r} is not {MODEL_FORMAT!r}")
    return meta


def load_weights(run_dir: str | Path) -> dict[str, torch.Tensor]:
    path = Path(run_dir) / "model.safetensors"
    if not path.is_file():
        raise InputError(run_dir, "has model.json but no model.safetensors")
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise InputError(path, f"cannot be read as safetensors ({exc})") from None


def load_run(run_dir: str | Path) -> tuple[torch.nn.Module, dict]:
    """The model (eval mode, CPU) and its metadata."""
    meta = read_meta(run_dir)
    model = build_model(meta["config"], meta["classes"], meta["region"], meta["view"])
    missing, unexpected = model.load_state_dict(load_weights(run_dir), strict=False)
    if missing or unexpected:
        raise InputError(run_dir, f"weights do not fit the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return model.eval(), meta
