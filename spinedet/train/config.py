"""Model configs: a shipped name (configs/NAME.json) or a JSON file path."""

from __future__ import annotations

import json
from pathlib import Path

from spinedet.errors import InputError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def load_config(name_or_path: str) -> dict:
    path = Path(name_or_path)
    if not path.suffix:
        path = CONFIG_DIR / f"{name_or_path}.json"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.json")))
        raise InputError(path, f"no such config (shipped: {shipped}, or give a JSON file)")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(path, f"is not valid JSON ({exc})") from None
    for key in ("model", "input", "train"):
        if key not in config:
            raise InputError(path, f"config lacks its {key!r} section")
    return config
