"""Small truth/prediction datasets for the evaluation tests."""

from __future__ import annotations

import numpy as np


def scan(sid: str, findings: list, patient: str | None = None, **extra) -> dict:
    return {"id": sid, "patient": patient or sid, "center": "C1", "region": "lumbar", "view": "sagittal",
            "image": f"{sid}.nii.gz", "findings": findings, "discs": [], **extra}


def truth_box(box, cls: str = "herniation", level: str | None = None) -> dict:
    out = {"class": cls, "box_lps": [float(v) for v in box]}
    if level:
        out["level"] = level
    return out


def pred_box(box, score: float, cls: str = "herniation", level: str | None = None) -> dict:
    return {**truth_box(box, cls, level), "score": float(score)}


def dataset(scans: list[dict]) -> dict:
    return {"format": "spinedet-dataset/1", "classes": ["herniation", "bulge", "degenerated_disc", "stenosis"],
            "scans": scans}


def cube(x: float, y: float = 0.0, z: float = 0.0, size: float = 10.0) -> list[float]:
    return [x, y, z, x + size, y + size, z + size]


def random_cohort(rng: np.random.Generator, n_scans: int, max_truths: int = 4, max_preds: int = 8,
                  grid: int = 6, score_levels: int = 5) -> tuple[dict, dict]:
    """Integer boxes on a small grid (many overlaps) and scores on a few levels (many ties)."""
    def boxes(k):
        lo = rng.integers(0, grid, (k, 3)).astype(float)
        return np.concatenate([lo, lo + rng.integers(1, 4, (k, 3))], axis=1)

    truths, preds = [], []
    for n in range(n_scans):
        sid = f"s{n}"
        truths.append(scan(sid, [truth_box(b) for b in boxes(int(rng.integers(0, max_truths + 1)))], f"p{n // 2}"))
        preds.append({"id": sid, "findings": [pred_box(b, rng.integers(0, score_levels) / (score_levels - 1))
                                              for b in boxes(int(rng.integers(0, max_preds + 1)))]})
    return dataset(truths), dataset(preds)
