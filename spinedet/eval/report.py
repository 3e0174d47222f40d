"""report.md of an evaluation: settings, definitions, one table row per group, per-class AP, warnings."""

from __future__ import annotations

from spinedet.eval.curves import FP_RATES
from spinedet.eval.definitions import definitions_text

DISCLAIMER = "Research software, not a medical device."


def _num(value, ci=None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def _row(label: str, m: dict) -> str:
    cells = [label, str(m["n_scans"]), str(m["n_truths"]), str(m["n_detections"])]
    cells += [_num(m["sensitivity_at_fp"][f"{r:g}"]) for r in FP_RATES]
    cells += [_num(m[k], m.get(f"{k}_ci")) for k in ("cpm", "ap", "precision", "recall", "f1")]
    cells += [_num(m["level_accuracy"])]
    return "| " + " | ".join(cells) + " |"


def grade_rows(label: str, grades: dict) -> list[str]:
    """Rows of the grade table for one group: per class levels, kappa [CI], kappa among found findings, RSNA log loss,
    confusion matrix."""
    rows = []
    for name, m in grades.items():
        confusion = "; ".join(f"{g}: " + " ".join(str(n) for n in row) for g, row in zip(m["scale"], m["confusion"]))
        rows.append(f"| {label} | {name} | {m['n_levels']} | {' < '.join(m['scale'])} | "
                    f"{_num(m['kappa'], m.get('kappa_ci'))} | {_num(m.get('kappa_found'))} ({m.get('n_found', 0)}) | "
                    f"{_num(m.get('rsna_log_loss'))} | {confusion} |")
    return rows


GRADE_HEADER = ["| group | class | levels | scale | quadratic kappa | kappa among found findings (levels) | RSNA log loss "
                "| confusion (truth: predicted counts) |",
                "|---|---|---|---|---|---|---|---|"]


def report_markdown(result: dict) -> str:
    """The report of one `spinedet evaluate` run, from its metrics.json content."""
    s, groups = result["settings"], result["groups"]
    rule = "predicted centre inside the truth box" if s["center_hit"] else f"3D IoU >= {s['iou_threshold']:g}"
    lines = [
        "# spinedet evaluation", "", f"**{DISCLAIMER}**", "",
        f"- truth: `{s['truth']}`", f"- predictions: `{s['predictions']}`",
        f"- hit rule: {rule}",
        f"- score threshold: {s['threshold']:.4f} ({s['threshold_source']}), the same for every group",
        f"- confidence intervals: " + (f"95%, bootstrap over patients, {s['bootstrap']} resamples (seed {s['seed']})"
                                       if s["bootstrap"] else "none (--bootstrap 0)"),
        "", "## Results", "",
        "Class-agnostic over the disease classes; values with [95% CI].", "",
        "| group | scans | truths | detections | " + " | ".join(f"sens@{r:g}" for r in FP_RATES)
        + " | CPM | AP | precision | recall | F1 | level accuracy |",
        "|" + "---|" * (4 + len(FP_RATES) + 6),
    ]
    lines += [_row(label, m) for label, m in groups.items()]
    per_class = {label: m["ap_per_class"] for label, m in groups.items() if "ap_per_class" in m}
    if per_class:
        classes = list(next(iter(per_class.values())))
        lines += ["", "## AP per class", "", "| group | " + " | ".join(classes) + " |",
                  "|" + "---|" * (len(classes) + 1)]
        lines += [f"| {label} | " + " | ".join(_num(ap[c]) for c in classes) + " |" for label, ap in per_class.items()]
    graded = [row for label, m in groups.items() for row in grade_rows(label, m.get("grades", {}))]
    if graded:
        lines += ["", "## Grades on matched levels", "", *GRADE_HEADER, *graded]
    lines += ["", "## Figures", "", "![fROC](froc.png)", "", "![Precision-recall](pr.png)", "",
              "## Definitions", "", "```", definitions_text(s["iou_threshold"], s["center_hit"]).rstrip(), "```"]
    if result["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in result["warnings"]]
    return "\n".join(lines + ["", f"_{DISCLAIMER}_", ""])
