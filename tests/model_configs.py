"""Very small model configs for tests (seconds per training step on a CPU): the level design and the DETR head."""

import copy
import json
from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[1] / "spinedet" / "configs"
SMALL = json.loads((CONFIGS / "small.json").read_text())
DETR_SMALL = json.loads((CONFIGS / "detr-small.json").read_text())


def micro_config(**train) -> dict:
    """The level design at the smallest widths, coarse inputs and crops."""
    config = copy.deepcopy(SMALL)
    for part in ("finder", "judge"):
        config[part].update(base_width=4, d_model=24, heads=2, layers=1, ffn=48)
    config["judge"]["decoder_width"] = 8
    config["judge"]["grade_trunk"]["base_width"] = 4
    for region in config["input"].values():
        for section in region.values():
            section["finder"]["spacing_mm"] = [4.0, 5.0, 5.0]
            section["finder"]["shape"] = [16, 64, 48] if section["finder"]["shape"][0] == 16 else [32, 32, 32]
            section["crop"]["shape"] = [8, 32, 32]
            section["crop"]["spacing_mm"] = [s * f for s, f in zip(section["crop"]["spacing_mm"], (1, 2, 2))]
    config["train"].update(epochs=2, min_steps=0, batch_size=2, val_every=1, **train)
    return config


def micro_detr_config(**train) -> dict:
    config = copy.deepcopy(DETR_SMALL)
    config["model"].update(base_width=4, d_model=24, heads=2, enc_layers=1, dec_layers=2, ffn=48, queries=12)
    config["input"] = {"sagittal": {"spacing_mm": [4.0, 5.0, 5.0], "shape": [16, 48, 32]},
                       "axial": {"spacing_mm": [4.0, 5.0, 5.0], "shape": [28, 32, 32]}}
    config["train"].update(epochs=2, batch_size=2, val_every=1, **train)
    return config
