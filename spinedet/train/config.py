"""Model configs: a shipped name (spinedet/configs/NAME.json, inside the package so that a wheel carries them) or a
JSON file path."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from spinedet.data.randomise import check_options
from spinedet.errors import InputError

SHIPPED = resources.files("spinedet") / "configs"


def shipped_configs() -> list[str]:
    return sorted(p.name[:-5] for p in SHIPPED.iterdir() if p.name.endswith(".json"))


def load_config(name_or_path: str) -> dict:
    path = Path(name_or_path)
    source = SHIPPED / f"{name_or_path}.json" if not path.suffix else path
    if not source.is_file():
        raise InputError(path, f"no such config (shipped: {', '.join(shipped_configs())}, or give a JSON file)")
    try:
        config = json.loads(source.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(path, f"is not valid JSON ({exc})") from None
    for key in ("model", "input", "train"):
        if key not in config:
            raise InputError(path, f"config lacks its {key!r} section")
    try:
        check_options(config["train"].get("randomise", {}))
    except ValueError as exc:
        raise InputError(path, str(exc)) from None
    return config
