"""A very small model config for tests (seconds per training step on a CPU)."""

import copy
import json
from pathlib import Path

SMALL = json.loads((Path(__file__).resolve().parents[1] / "configs" / "small.json").read_text())


def micro_config(**train) -> dict:
    config = copy.deepcopy(SMALL)
    config["model"].update(base_width=4, d_model=24, heads=2, enc_layers=1, dec_layers=2, ffn=48, queries=12)
    config["input"] = {"sagittal": {"spacing_mm": [4.0, 5.0, 5.0], "shape": [16, 48, 32]},
                       "axial": {"spacing_mm": [4.0, 5.0, 5.0], "shape": [28, 32, 32]}}
    config["train"].update(epochs=2, batch_size=2, val_every=1, **train)
    return config
