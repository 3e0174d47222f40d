"""Metrics per group of scans (centre, view, region) and per disease class, at one fixed score threshold."""

from __future__ import annotations

from itertools import product

from spinedet.eval.curves import average_precision, pr_curve
from spinedet.eval.grade_metrics import grade_metrics
from spinedet.eval.metrics import curves_of, group_metrics
from spinedet.eval.table import build_table

GROUP_KEYS = ("center", "view", "region", "class")


def group_filters(truth: dict, keys: list[str], classes: list[str]) -> dict[str, tuple[set | None, set]]:
    """{label: (scan ids or None for all, classes)}: "all", then each combination of the keys' values present."""
    out: dict[str, tuple[set | None, set]] = {"all": (None, set(classes))}
    if not keys:
        return out
    values = [list(classes) if k == "class" else sorted({s[k] for s in truth["scans"]}) for k in keys]
    for combo in product(*values):
        chosen = dict(zip(keys, combo))
        ids = {s["id"] for s in truth["scans"] if all(s[k] == v for k, v in chosen.items() if k != "class")}
        if ids:
            group_classes = {chosen["class"]} if "class" in chosen else set(classes)
            out[" / ".join(combo)] = (ids if set(keys) != {"class"} else None, group_classes)
    return out


def _ap(table) -> float | None:
    """AP of one table, None without truths (undefined)."""
    return average_precision(*pr_curve(table)[:2]) if table.n_truths else None


def evaluate_groups(truth: dict, predictions: dict, *, keys: list[str], classes: list[str], threshold: float,
                    iou_threshold: float = 0.1, center_hit: bool = False, bootstrap: int = 0,
                    seed: int = 0) -> tuple[dict, dict]:
    """({label: metrics}, {label: curves}) for every group; class-agnostic groups carry per-class AP beside, and
    every group the grade metrics of its classes where truth and predictions grade them."""
    metrics, curves = {}, {}
    for label, (ids, group_classes) in group_filters(truth, keys, classes).items():
        def table(cls):
            return build_table(truth, predictions, iou_threshold=iou_threshold, center_hit=center_hit,
                               classes=cls, scan_ids=ids, warn=False)
        t = table(group_classes)
        metrics[label] = group_metrics(t, threshold, bootstrap, seed)
        curves[label] = curves_of(t, threshold)
        if len(group_classes) > 1:
            metrics[label]["ap_per_class"] = {c: _ap(table({c})) for c in classes}
        grades = grade_metrics(truth, predictions, [c for c in classes if c in group_classes], threshold, ids,
                               bootstrap, seed)
        if grades:
            metrics[label]["grades"] = grades
    return metrics, curves
