"""The study's evaluation: metrics per dataset role and view, curves, figures and example overlays."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spinedet.data.dataset import image_path, read_json
from spinedet.eval import best_f1_threshold, curves, evaluate
from spinedet.eval.grade_metrics import grade_metrics
from spinedet.eval.matching import hit_quality
from spinedet.eval.plots import plot_froc, plot_pr
from spinedet.infer.overlay import finding_png, intensity_window
from spinedet.io import geometry
from spinedet.io.load import load_scan
from spinedet.study.paper import DATASET_LABELS, VIEWS


def of_view(data: dict, view: str) -> dict:
    return {**data, "scans": [s for s in data["scans"] if s["view"] == view]}


def evaluate_role(truth: dict, predictions: dict, threshold_truth: dict, threshold_predictions: dict, *, view: str,
                  bootstrap: int, seed: int) -> tuple[dict, dict]:
    """Metrics on `truth` at the F1-maximising threshold of the threshold set (with grade metrics where truth and
    predictions grade findings), and the curves to plot."""
    truth = of_view(truth, view)
    threshold = best_f1_threshold(of_view(threshold_truth, view), threshold_predictions)
    m = evaluate(truth, predictions, score_threshold=threshold, bootstrap=bootstrap, seed=seed)
    c = curves(truth, predictions, score_threshold=threshold)
    result = {k: m[k] for k in ("f1", "precision", "recall", "ap", "cpm", "threshold", "n_scans", "n_truths",
                                "level_accuracy", "sensitivity_at_fp")}
    result["f1_ci"] = m.get("f1_ci")
    grades = grade_metrics(truth, predictions, truth["classes"], threshold, bootstrap=bootstrap, seed=seed)
    if grades:
        result["grades"] = grades
    return result, c


def level_accuracy(truth: dict, predictions: dict, *, view: str, threshold: float) -> float | None:
    """The level accuracy of the findings matched at `threshold` (no bootstrap)."""
    return evaluate(of_view(truth, view), predictions, score_threshold=threshold)["level_accuracy"]


def plot_curves(curves_by_role: dict[tuple[str, str], dict], folder: Path) -> dict[str, str]:
    """fROC and PR figures per view, one curve per dataset role; returns {title: path relative to the study}."""
    figures = {}
    for view in VIEWS:
        group = {DATASET_LABELS[role]: c for (role, v), c in curves_by_role.items() if v == view}
        if not group:
            continue
        for kind, plot in (("froc", plot_froc), ("pr", plot_pr)):
            path = folder / f"{kind}-{view}.png"
            plot(group, path, title=f"{'fROC' if kind == 'froc' else 'Precision-recall'}, {view}")
            figures[f"{'fROC' if kind == 'froc' else 'PR'} {view}"] = f"{folder.name}/{path.name}"
    return figures


def _examples_of_scan(truth_scan: dict, pred_scan: dict, threshold: float) -> list[tuple[str, dict, str]]:
    """(kind, box entry, caption) for one true positive, one miss and one false positive where present."""
    preds = [p for p in pred_scan.get("findings", []) if p["score"] >= threshold]
    truths = truth_scan.get("findings", [])
    quality = hit_quality(np.array([p["box_lps"] for p in preds]).reshape(-1, 6),
                          np.array([t["box_lps"] for t in truths]).reshape(-1, 6), 0.1, False)
    out = []
    for n, p in enumerate(preds):
        kind = "true positive" if quality.shape[1] and quality[n].max() >= 0 else "false positive"
        out.append((kind, p, f"predicted {p['class']} {p.get('level') or '?'} score {p['score']:.2f}"))
    for m, t in enumerate(truths):
        if not quality.shape[0] or quality[:, m].max() < 0:
            out.append(("miss", {**t, "score": 0.0}, f"truth {t['class']} {t.get('level') or '?'} not detected"))
    return out


def example_overlays(out: Path, set_paths: dict[str, Path], results: list[dict], per_kind: int = 2) -> list[dict]:
    """Up to `per_kind` overlays each of true positives, misses and false positives on internal validation."""
    chosen: dict[str, list[dict]] = {"true positive": [], "miss": [], "false positive": []}
    truth = read_json(set_paths["internal"])
    for r in (r for r in results if r["dataset"] == "internal"):
        predictions = read_json(out / "predictions" / f"lumbar-{r['view']}--internal.json")
        by_id = {s["id"]: s for s in predictions["scans"]}
        for scan in of_view(truth, r["view"])["scans"]:
            examples = [e for e in _examples_of_scan(scan, by_id.get(scan["id"], {}), r["threshold"])
                        if len(chosen[e[0]]) < per_kind]
            if not examples:
                continue
            image = load_scan(image_path(set_paths["internal"], scan), view=scan["view"], region=scan["region"])
            window = intensity_window(image.array)
            for kind, entry, caption in examples:
                if len(chosen[kind]) >= per_kind:
                    continue
                box_voxel = geometry.box_world_to_voxel(np.array(entry["box_lps"]), image.affine)
                path = Path("examples") / f"{kind.replace(' ', '-')}-{len(chosen[kind])}.png"
                finding_png(image, scan["id"], {**entry, "box_voxel": box_voxel}, window, out / path)
                chosen[kind].append({"kind": kind, "caption": f"{scan['id']}: {caption}", "path": path.as_posix()})
    return [o for kind in chosen.values() for o in kind]
