"""Training state for --resume (model, optimizer, scheduler, RNG, counters): one safetensors file whose metadata
holds the JSON part, written atomically, so that a training killed at any moment leaves either the old state or
the new one, never the tensors of one epoch with the counters of another."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from spinedet.atomic import atomic_path

STATE_FILE = "state.safetensors"


def save_state(folder: Path, model, optimizer, scheduler, counters: dict) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for pid, entry in opt["state"].items():
        for name, value in entry.items():
            tensors[f"opt.{pid}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
    tensors["rng.torch"] = torch.get_rng_state()
    np_state = np.random.get_state()
    meta = {
        "counters": counters,
        "param_groups": opt["param_groups"],
        "scheduler": scheduler.state_dict(),
        "rng_python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
        "rng_numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
    }
    with atomic_path(folder / STATE_FILE) as tmp:
        save_file(tensors, str(tmp), metadata={"state": json.dumps(meta)})


def has_state(folder: Path) -> bool:
    return (folder / STATE_FILE).is_file()


def load_state(folder: Path, model, optimizer, scheduler) -> dict:
    """Restore everything save_state wrote; returns the counters."""
    tensors = load_file(str(folder / STATE_FILE))
    with safe_open(str(folder / STATE_FILE), "pt") as stored:
        meta = json.loads(stored.metadata()["state"])
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    scheduler.load_state_dict(meta["scheduler"])
    torch.set_rng_state(tensors["rng.torch"])
    version, internal, gauss = meta["rng_python"]
    random.setstate((version, tuple(internal), gauss))
    n = meta["rng_numpy"]
    np.random.set_state((n[0], np.array(n[1], dtype=np.uint32), n[2], n[3], n[4]))
    return meta["counters"]
