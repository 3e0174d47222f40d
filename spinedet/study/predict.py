"""Predictions of one model on one study set, through the one prediction path that `spinedet detect` takes."""

from __future__ import annotations

from pathlib import Path

from spinedet.data.dataset import load_dataset
from spinedet.infer.predictor import Predictor, predict_entries


def predict_set(run_dir: Path, set_path: Path, view: str) -> dict:
    """A predictions dataset for the `view` scans of a set, every finding kept above the model's floor (for the
    fROC and PR curves); each scan's levels are named in its own region (a lumbar model on a cervical scan names
    cervical levels)."""
    data = load_dataset(set_path)
    entries = [s for s in data["scans"] if s["view"] == view]
    return predict_entries([Predictor.from_run(run_dir)], set_path, entries, data["classes"],
                           desc=f"predict {Path(run_dir).name} on {set_path.stem}")
