"""report.html of one patient's study: what was analysed, one row per level, key images, models, the notice.

Self-contained (images inlined as data: URIs, CSS inline, no script) and locked by a Content-Security-Policy that
refuses every network request. It names series and dates only, never the patient.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from spinedet.infer.findings import NOTICE
from spinedet.report.join import JOIN_DISTANCE_MM, NOT_IMAGED, PAIRED_VIEWS

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
VIEW_SHORT = {"sagittal": "sag", "axial": "ax", "coronal": "cor"}
STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #111; }
h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.15em; margin: 1.2em 0 .4em; }
.notice { background: #fff1f0; border: 1px solid #e0a0a0; padding: .4em .7em; font-weight: 600; }
table { border-collapse: collapse; margin: .3em 0; } th, td { border: 1px solid #bbb; padding: .25em .5em; }
th { background: #f2f2f2; text-align: left; } td.none { color: #999; } .not-imaged { color: #a05a00; }
.probable { font-weight: 700; color: #b00020; } .possible { font-weight: 600; color: #8a6d00; }
.finding { display: block; white-space: nowrap; }
figure { display: inline-block; margin: .5em 1em .5em 0; vertical-align: top; break-inside: avoid; }
figure img { display: inline-block; margin-right: .3em; border: 1px solid #444; }
figcaption { font-size: .9em; max-width: 560px; }
@media print { body { margin: 0; } .key-images figure { page-break-inside: avoid; } }
"""


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _grade_words(finding: dict) -> str:
    """', severe 0.81' where the finding is graded, else nothing."""
    return f', {escape(finding["grade"])} {finding["grade_probability"]:.2f}' if "grade" in finding else ""


def _cell(cls: str, findings: list[dict]) -> str:
    if not findings:
        return f'<td class="none" data-class="{cls}">&ndash;</td>'
    spans = "".join(
        f'<span class="finding" data-score="{f["score"]:.2f}" data-views="{" ".join(f["views"])}" '
        f'data-likelihood="{f["likelihood"]}"><span class="{f["likelihood"]}">{f["likelihood"]}</span> '
        f'{f["score"]:.2f}{_grade_words(f)} ({" + ".join(VIEW_SHORT.get(v, v) for v in f["views"])})</span>'
        for f in findings
    )
    return f'<td data-class="{cls}">{spans}</td>'


def _level_table(entry: dict, classes: list[str]) -> str:
    views = list(entry["scans"])
    head = "".join(f"<th>{escape(v)}</th>" for v in views) + "".join(
        f"<th>{escape(c.replace('_', ' '))}</th>" for c in classes)
    rows = []
    for level in entry["levels"]:
        status = "".join(
            f'<td class="{"not-imaged" if level["views"][v] == NOT_IMAGED else "imaged"}" data-view="{v}">'
            f'{level["views"][v]}</td>' for v in views)
        cells = "".join(_cell(c, [f for f in level["findings"] if f["class"] == c]) for c in classes)
        rows.append(f'<tr data-level="{escape(level["level"])}"><th>{escape(level["level"])}</th>{status}{cells}</tr>')
    return (f'<table id="levels"><thead><tr><th>level</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _figure(f: dict, images: dict) -> str:
    parts, words = [], []
    for view in f["views"]:
        seen = f[view]
        png, index = images[(seen["scan"], seen["finding"])]
        parts.append(f'<img src="{_png_uri(png)}" alt="{escape(view)} slice {index}">')
        words.append(f"{view} {seen['score']:.2f} (slice {index})")
    apart = f"; centres {f['centre_distance_mm']:.1f} mm apart" if "centre_distance_mm" in f else ""
    title = f"{escape(f['level'] or 'no level')} {escape(f['class'].replace('_', ' '))}: {f['likelihood']}"
    return f"<figure>{''.join(parts)}<figcaption><b>{title}</b>. {'; '.join(words)}{apart}.</figcaption></figure>"


def _series_table(sources: list) -> str:
    rows = "".join(f"<tr><td>{escape(s.view)}</td><td>{escape(s.description) or '&ndash;'}</td>"
                   f"<td>{escape(s.number) or '&ndash;'}</td><td>{escape(s.date) or '&ndash;'}</td></tr>"
                   for s in sources)
    return ('<table id="series"><tr><th>view</th><th>series description</th><th>series number</th><th>date</th></tr>'
            f"{rows}</table>")


def _models_table(models: list[dict]) -> str:
    rows = "".join(
        f"<tr><td>{escape(Path(m['run']).name)}</td><td>{escape(m['region'])} {escape(m['view'])}</td>"
        f"<td>{escape(str(m.get('model_version') or '?'))}</td><td>{m['operating_threshold']:.3f}</td>"
        f"<td>{m['threshold']:.3f}</td><td>{m['disc_threshold']:.3f}</td></tr>" for m in models)
    return ("<table id=\"models\"><tr><th>model run</th><th>for</th><th>spinedet version</th>"
            "<th>operating threshold</th><th>reported from</th><th>disc threshold</th></tr>" + rows + "</table>")


def report_html(entry: dict, classes: list[str], sources: list, models: list[dict], images: dict,
                version: str) -> str:
    """The page for one patient entry of findings.json; `images` maps (scan id, finding index) to (PNG, slice)."""
    findings = [f for level in entry["levels"] for f in level["findings"]] + entry["unlevelled_findings"]
    unlevelled = "".join(f"<li>{escape(f['class'])} {f['score']:.2f} ({', '.join(f['views'])})</li>"
                         for f in entry["unlevelled_findings"])
    other = ", ".join(PAIRED_VIEWS)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>spinedet findings per level</title><style>{STYLE}</style></head>
<body>
<h1>Degenerative spine findings per level</h1>
<p class="notice">{escape(NOTICE)} Research use only: these are a model's outputs, not a diagnosis.</p>
<h2>Analysed</h2>
{_series_table(sources)}
<h2>Findings per level</h2>
{_level_table(entry, classes)}
{f"<p>Findings without a level:</p><ul>{unlevelled}</ul>" if unlevelled else ""}
<p><span class="probable">probable</span>: a view scores the finding at or above its model's operating threshold
(the checkpoint's own, the best F1 on validation); <span class="possible">possible</span>: below it (shown only
when detect ran with a lower --threshold). Views (sag, ax): where the finding was seen; {other} findings of one
class and level whose box centres lie within {JOIN_DISTANCE_MM:g} mm are one finding. "not imaged" under axial: the
level lies outside the axial stack, so the absence of an axial finding there says nothing. &ndash;: none found.</p>
<h2>Key images</h2>
<div class="key-images">{"".join(_figure(f, images) for f in findings) or "<p>No findings.</p>"}</div>
<h2>Models</h2>
{_models_table(models)}
<p>spinedet {escape(version)}. {escape(NOTICE)}</p>
</body></html>
"""
