"""Evaluation as ../shared/DESIGN.md defines it: fROC (LUNA16), PR and AP (VOC/COCO), F1, bootstrap CIs."""

from __future__ import annotations

from spinedet.data.dataset import DISEASE_CLASSES
from spinedet.eval.curves import best_f1_threshold as _best_f1_threshold
from spinedet.eval.metrics import curves_of, group_metrics
from spinedet.eval.table import build_table


def _disease(truth: dict, classes) -> set[str]:
    return set(classes) if classes is not None else set(truth.get("classes", DISEASE_CLASSES))


def evaluate(truth: dict, predictions: dict, *, iou_threshold: float = 0.1, center_hit: bool = False,
             score_threshold: float | None = None, classes=None, bootstrap: int = 0, seed: int = 0) -> dict:
    """Class-agnostic disease metrics of parsed truth and prediction datasets (see metrics.group_metrics)."""
    table = build_table(truth, predictions, iou_threshold=iou_threshold, center_hit=center_hit,
                        classes=_disease(truth, classes))
    return group_metrics(table, score_threshold, bootstrap, seed)


def best_f1_threshold(truth: dict, predictions: dict, *, iou_threshold: float = 0.1, center_hit: bool = False,
                      classes=None, warn: bool = True) -> float:
    """The score threshold maximising class-agnostic F1 on these data."""
    table = build_table(truth, predictions, iou_threshold=iou_threshold, center_hit=center_hit,
                        classes=_disease(truth, classes), warn=warn)
    return _best_f1_threshold(table)


def curves(truth: dict, predictions: dict, *, iou_threshold: float = 0.1, center_hit: bool = False, classes=None,
           score_threshold: float | None = None) -> dict:
    """Class-agnostic fROC and PR curve points (and the operating point at `score_threshold`, if given)."""
    return curves_of(build_table(truth, predictions, iou_threshold=iou_threshold, center_hit=center_hit,
                                 classes=_disease(truth, classes), warn=False), score_threshold)


__all__ = ["evaluate", "best_f1_threshold", "curves"]
