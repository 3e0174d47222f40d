"""Predictions of one model on one study set, post-processed exactly as `spinedet detect` does."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from spinedet.data.dataset import image_path, load_dataset
from spinedet.infer import findings as F
from spinedet.infer.predictor import Predictor
from spinedet.io.load import load_scan


def predict_set(run_dir: Path, set_path: Path, view: str) -> dict:
    """A predictions dataset for the `view` scans of a set, every finding kept above the predictor's floor.

    Discs are kept at the model's operating threshold (they name the levels); findings at any score, so that
    fROC and PR curves can be drawn. Scans keep their own region for level naming (a lumbar model on a
    cervical scan names cervical levels). Zero-size boxes are dropped, as detect drops them.
    """
    predictor = Predictor.from_run(run_dir)
    disc_threshold = float(predictor.meta.get("threshold", 0.5))
    data = load_dataset(set_path)
    records = []
    for scan in tqdm([s for s in data["scans"] if s["view"] == view], desc=f"predict {Path(run_dir).name} on {set_path.stem}",
                     leave=False):
        image = load_scan(image_path(set_path, scan), view=scan["view"], region=scan["region"])
        detections = [d for d in F.above_threshold(predictor.predict(image), 0.0, disc_threshold) if F.has_extent(d)]
        findings, discs = F.postprocess(detections, scan["region"], F.NMS_IOU, F.DISC_GAP_MM[scan["region"]])
        info = {k: scan[k] for k in ("id", "patient", "center", "region", "view", "image", "split") if k in scan}
        records.append(F.scan_record(info, findings, discs))
    return F.predictions_dataset(records, data["classes"])
