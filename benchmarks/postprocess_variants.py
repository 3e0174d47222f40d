"""Does post-processing limit the study's scores? Re-score a finished study's lumbar models with variants.

Variants of turning one forward pass into class-agnostic disease detections (all with the model's score floor
and IoU-0.3 NMS): `all` every (query, disease class) pair, class-wise NMS (what detect and the study do);
`+agnostic` NMS across the disease classes; `best` each query's best disease class only; `anyprob` one
detection per query scored 1 - prod(1 - p_class). Threshold from internal validation, as in the study.

    .venv/bin/python benchmarks/postprocess_variants.py out/study
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from spinedet.data.dataset import DISC_CLASS, image_path, load_dataset
from spinedet.eval import best_f1_threshold, evaluate
from spinedet.infer.findings import NMS_IOU
from spinedet.infer.nms import classwise_nms
from spinedet.infer.predictor import Predictor, query_outputs
from spinedet.io import geometry
from spinedet.io.load import load_scan

SETS = ("internal", "external1", "external2")
VARIANTS = ("all", "all+agnostic", "best", "best+agnostic", "anyprob")


def detections(probs: np.ndarray, boxes: np.ndarray, classes: list[str], affine: np.ndarray, variant: str,
               floor: float) -> list:
    disease = [c for c, name in enumerate(classes) if name != DISC_CLASS]
    found = []
    for q in range(len(probs)):
        best = max(disease, key=lambda c: probs[q, c])
        if variant == "anyprob":
            pairs = [(best, 1 - np.prod(1 - probs[q, disease]))]
        elif variant.startswith("best"):
            pairs = [(best, probs[q, best])]
        else:
            pairs = [(c, probs[q, c]) for c in disease]
        found += [{"class": classes[c], "score": float(p), "box_voxel": list(boxes[q]),
                   "box_lps": list(geometry.box_voxel_to_world(boxes[q], affine))} for c, p in pairs if p >= floor]
    if variant.endswith("+agnostic"):
        merged = classwise_nms([{**d, "class": "disease", "named": d["class"]} for d in found], NMS_IOU)
        return [{**d, "class": d["named"]} for d in merged]
    return classwise_nms(found, NMS_IOU)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path, help="a finished `spinedet study` folder")
    study = parser.parse_args().study
    for view in ("sagittal", "axial"):
        predictor = Predictor.from_run(study / "models" / f"lumbar-{view}")
        model, meta = predictor.model, predictor.meta
        sets = {}
        for name in SETS:
            path = study / "sets" / f"{name}.json"
            data = load_dataset(path)
            truth = {**data, "scans": [e for e in data["scans"] if e["view"] == view]}
            outputs = []
            for entry in truth["scans"]:
                scan = load_scan(image_path(path, entry), view=entry["view"], region=entry["region"])
                outputs.append((entry, scan.affine, *query_outputs(model, meta, scan)))
            sets[name] = (truth, outputs)
        for variant in VARIANTS:
            scored = {}
            for name, (truth, outputs) in sets.items():
                scans = [{**{k: e[k] for k in ("id", "patient", "center", "region", "view", "image")}, "discs": [],
                          "findings": detections(probs, boxes, meta["classes"], affine, variant,
                                                          predictor.score_floor)}
                         for e, affine, probs, boxes in outputs]
                scored[name] = (truth, {**truth, "scans": scans})
            threshold = best_f1_threshold(*scored["internal"], warn=False)
            cells = [f"{name} F1 {m['f1']:.3f} CPM {m['cpm']:.3f} AP {m['ap']:.3f}"
                     for name, m in ((n, evaluate(*scored[n], score_threshold=threshold)) for n in SETS)]
            print(f"{view:8s} {variant:14s} " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
