"""The study report: report.md and a self-contained report.html (figures embedded) in the paper's layout."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from spinedet.study.paper import CITATION, DATASET_LABELS, PAPER_F1, VIEWS

NOTICE = "Research software, not a medical device. Not for diagnosis or treatment decisions."


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _cell(result: dict | None) -> str:
    """F1 (95% CI), precision, recall, AP, CPM of one dataset and view."""
    if result is None:
        return "not run"
    lo, hi = result.get("f1_ci") or (None, None)
    ci = f" ({_fmt(lo)}-{_fmt(hi)})" if lo is not None else ""
    return (
        f"F1 {_fmt(result['f1'])}{ci}; P {_fmt(result['precision'])}; R {_fmt(result['recall'])}; "
        f"AP {_fmt(result['ap'])}; CPM {_fmt(result['cpm'])}"
    )


def results_table(study: dict) -> list[list[str]]:
    """Rows of the paper's table: header, then one row per dataset role with our cells and the paper's F1."""
    by_key = {(r["dataset"], r["view"]): r for r in study["results"]}
    rows = [["Dataset", "Sagittal (ours)", "Axial (ours)", "Paper F1 sag / ax", "Scans sag / ax"]]
    for dataset, label in DATASET_LABELS.items():
        if not any((dataset, v) in by_key for v in VIEWS):
            continue
        paper = " / ".join(_fmt(PAPER_F1.get((dataset, v))) for v in VIEWS)
        scans = " / ".join(str(by_key[(dataset, v)]["n_scans"]) if (dataset, v) in by_key else "-" for v in VIEWS)
        rows.append([label] + [_cell(by_key.get((dataset, v))) for v in VIEWS] + [paper, scans])
    return rows


LEVELS_NOTE = ("Axial levels are named from the same patient's sagittal scan (spinedet.infer.cross_reference), as "
               "`spinedet detect` names them; the last column is the axial finder's own naming.")


def level_table(study: dict) -> list[list[str]]:
    """Rows (header first): per dataset and view the operating threshold, the level accuracy of matched findings,
    and for axial results the level accuracy of the axial finder's own names."""
    return [["Dataset", "View", "Threshold", "Level accuracy of matched findings", "Axial finder alone"]] + [
        [DATASET_LABELS[r["dataset"]], r["view"], _fmt(r["threshold"]), _fmt(r.get("level_accuracy")),
         _fmt(r.get("level_accuracy_axial_alone"))] for r in study["results"]]


def grades_table(study: dict) -> list[list[str]] | None:
    """Rows of the grade table (header first): per dataset, view and graded class the matched levels, quadratic
    weighted kappa (95% CI), the kappa among found findings and RSNA log loss; None where no result has grades."""
    rows = [["Dataset", "View", "Class", "Matched levels", "Quadratic kappa (95% CI)",
             "Kappa among found findings (levels)", "RSNA log loss"]]
    for r in study["results"]:
        for name, m in r.get("grades", {}).items():
            lo, hi = m.get("kappa_ci") or (None, None)
            ci = f" ({_fmt(lo)}-{_fmt(hi)})" if lo is not None else ""
            rows.append([DATASET_LABELS[r["dataset"]], r["view"], name, str(m["n_levels"]), _fmt(m["kappa"]) + ci,
                         f"{_fmt(m.get('kappa_found'))} ({m.get('n_found', 0)})", _fmt(m.get("rsna_log_loss"))])
    return rows if len(rows) > 1 else None


def _markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def render_markdown(study: dict, figures: dict[str, str], overlays: list[dict], definitions: str) -> str:
    """report.md; figure and overlay paths are relative to the report."""
    parts = [
        "# spinedet study report",
        f"**{NOTICE}**",
        f"Preset `{study['preset']}`, seed {study['seed']}, total wall time {study['wall_s'] / 60:.1f} min. "
        f"Protocol after {CITATION}",
        "## Results",
        "F1 at the operating threshold chosen on the validation split (lumbar: C1 validation; cervical: a "
        "validation part of C4's training patients), then applied unchanged. 95% CI by bootstrap over patients.",
        _markdown_table(results_table(study)),
        "## Operating thresholds and level accuracy",
        LEVELS_NOTE,
        _markdown_table(level_table(study)),
    ]
    grades = grades_table(study)
    if grades:
        parts += ["## Grades on matched levels", "Definitions below (Grades).", _markdown_table(grades)]
    parts += [
        "## Curves",
    ]
    parts += [f"![{name}]({path})" for name, path in figures.items()]
    if overlays:
        parts.append("## Examples: true positives, misses, false positives")
        parts += [f"**{o['kind']}**: {o['caption']}\n\n![{o['kind']}]({o['path']})" for o in overlays]
    parts += [
        "## Definitions",
        definitions,
        "## Stages, commands and wall time",
        _markdown_table(
            [["Stage", "Command", "Wall time (s)"]]
            + [[s["stage"], f"`{s['command']}`", f"{s['wall_s']:.1f}"] for s in study["stages"]]
        ),
        "## Versions",
        "\n".join(f"- {k}: {v}" for k, v in study["versions"].items()),
        f"\n*{NOTICE}*",
    ]
    return "\n\n".join(parts) + "\n"


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" style="max-width:100%">'


def _html_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(study: dict, figures: dict[str, str], overlays: list[dict], definitions: str, root: Path) -> str:
    """report.html, self-contained: every image embedded, no external resources."""
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;font-size:13px}"
        ".notice{background:#fff3cd;padding:8px;border:1px solid #e0c36c}"
    )
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>spinedet study</title><style>{style}</style></head><body>",
        "<h1>spinedet study report</h1>",
        f"<p class='notice'><b>{html.escape(NOTICE)}</b></p>",
        f"<p>Preset <code>{html.escape(study['preset'])}</code>, seed {study['seed']}, total wall time "
        f"{study['wall_s'] / 60:.1f} min. Protocol after {html.escape(CITATION)}</p>",
        "<h2>Results</h2>",
        _html_table(results_table(study)),
        "<h2>Operating thresholds and level accuracy</h2>",
        f"<p>{html.escape(LEVELS_NOTE)}</p>",
        _html_table(level_table(study)),
    ]
    grades = grades_table(study)
    if grades:
        parts += ["<h2>Grades on matched levels</h2>", _html_table(grades)]
    parts += [
        "<h2>Curves</h2>",
    ]
    parts += [f"<h3>{html.escape(name)}</h3>{_img(root / path)}" for name, path in figures.items()]
    if overlays:
        parts.append("<h2>Examples: true positives, misses, false positives</h2>")
        parts += [f"<p><b>{html.escape(o['kind'])}</b>: {html.escape(o['caption'])}</p>{_img(root / o['path'])}"
                  for o in overlays]
    parts += [
        "<h2>Definitions</h2>",
        f"<pre>{html.escape(definitions)}</pre>",
        "<h2>Stages, commands and wall time</h2>",
        _html_table([["Stage", "Command", "Wall time (s)"]]
                    + [[s["stage"], s["command"], f"{s['wall_s']:.1f}"] for s in study["stages"]]),
        "<h2>Versions</h2><ul>" + "".join(f"<li>{html.escape(f'{k}: {v}')}</li>" for k, v in study["versions"].items()) + "</ul>",
        f"<p class='notice'>{html.escape(NOTICE)}</p></body></html>",
    ]
    return "\n".join(parts)
