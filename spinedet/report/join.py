"""Findings of one patient joined per level across views: the `patients` entries of findings.json.

A sagittal and an axial finding are one finding when they have the same class and level and their world box
centres lie at most JOIN_DISTANCE_MM apart; pairs are taken closest first, each finding joined at most once.
A finding seen in one view only stays, with that view alone in its `views`. Each level says, per view of the
patient, whether it was "imaged" (a disc or finding was named there, or the level's position lies inside a scan
of that view) or "not imaged", so that a level outside the axial stack reads "not imaged axially", not "absent".
A finding is "probable" when a view scores it at or above that view's operating threshold (the checkpoint's own,
chosen for the best F1 on validation), else "possible" (reported only when detect ran with a lower --threshold).
Where the models grade findings, a joined finding takes the grade of the view that scores it highest.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from spinedet.data.levels import ALL_LEVELS
from spinedet.report.coverage import Extent

# Same class and level, centres within 10 mm: well under the 15-25 mm between left and right paracentral lesions of
# one lumbar level and the 25-40 mm between adjacent discs, and over the few mm a patient moves between two series.
JOIN_DISTANCE_MM = 10.0
PAIRED_VIEWS = ("sagittal", "axial")
VIEW_ORDER = ("sagittal", "axial", "coronal")
IMAGED, NOT_IMAGED = "imaged", "not imaged"
PROBABLE, POSSIBLE = "probable", "possible"


def centre(box_lps) -> np.ndarray:
    """The centre (mm) of an LPS corner box [x0, y0, z0, x1, y1, z1]."""
    box = np.asarray(box_lps, float)
    return (box[:3] + box[3:]) / 2.0


def _view_rank(view: str) -> int:
    return VIEW_ORDER.index(view) if view in VIEW_ORDER else len(VIEW_ORDER)


def _seen(record: dict, index: int) -> dict:
    f = record["findings"][index]
    graded = {k: f[k] for k in ("grade", "grade_probability") if k in f}
    return {"scan": record["id"], "finding": index, "score": f["score"], "box_lps": f["box_lps"], **graded}


def _grade(seen: list[dict]) -> dict:
    """The grade and its probability from the view that scores the finding highest, where that view grades it."""
    best = max(seen, key=lambda s: s["score"])
    return {k: best[k] for k in ("grade", "grade_probability") if k in best}


def join_findings(sagittal: list[tuple[dict, int]], axial: list[tuple[dict, int]]) -> list[dict]:
    """Findings of one class and level, given as (scan record, finding index) per view, joined closest first."""
    pairs = sorted(
        (float(np.linalg.norm(centre(s[0]["findings"][s[1]]["box_lps"]) - centre(a[0]["findings"][a[1]]["box_lps"]))),
         i, j)
        for i, s in enumerate(sagittal) for j, a in enumerate(axial)
    )
    used_s, used_a, joined = set(), set(), []
    for distance, i, j in pairs:
        if distance <= JOIN_DISTANCE_MM and i not in used_s and j not in used_a:
            used_s.add(i), used_a.add(j)
            joined.append({"views": list(PAIRED_VIEWS), "sagittal": _seen(*sagittal[i]), "axial": _seen(*axial[j]),
                           "centre_distance_mm": round(distance, 2)})
    joined += [{"views": ["sagittal"], "sagittal": _seen(*s)} for i, s in enumerate(sagittal) if i not in used_s]
    joined += [{"views": ["axial"], "axial": _seen(*a)} for j, a in enumerate(axial) if j not in used_a]
    return joined


def _finding_entries(records: list[dict], operating: dict[str, float]) -> list[dict]:
    """Every finding of the patient's scans, joined across the paired views per (class, level)."""
    pools: dict = defaultdict(lambda: defaultdict(list))
    for record in records:
        for n, f in enumerate(record["findings"]):
            pools[(f["class"], f["level"])][record["view"]].append((record, n))
    entries = []
    for (cls, level), by_view in pools.items():
        if level is None:
            found = [{"views": [view], view: _seen(*item)} for view, items in by_view.items() for item in items]
        else:
            found = join_findings(by_view.get("sagittal", []), by_view.get("axial", []))
            found += [{"views": [view], view: _seen(*item)} for view, items in by_view.items()
                      if view not in PAIRED_VIEWS for item in items]
        for f in found:
            seen = [f[view] for view in f["views"]]
            word = PROBABLE if any(s["score"] >= operating[s["scan"]] for s in seen) else POSSIBLE
            entries.append({"class": cls, "level": level, "score": max(s["score"] for s in seen),
                            "likelihood": word, **_grade(seen), **f})
    return sorted(entries, key=lambda e: -e["score"])


def level_positions(records: list[dict], levels: list[str]) -> dict[str, np.ndarray]:
    """Each level's LPS position: its disc's centre (sagittal first), else interpolated between found neighbours."""
    known: dict[str, np.ndarray] = {}
    for record in sorted(records, key=lambda r: _view_rank(r["view"])):
        for disc in record["discs"]:
            if disc["level"] in levels and disc["level"] not in known:
                known[disc["level"]] = centre(disc["box_lps"])
    if not known:
        return {}
    index = sorted(ALL_LEVELS.index(level) for level in known)
    points = np.array([known[ALL_LEVELS[i]] for i in index])
    return {level: np.array([np.interp(ALL_LEVELS.index(level), index, points[:, k]) for k in range(3)])
            for level in levels}


def _status(level: str, view: str, records: list[dict], extents: dict[str, Extent], position) -> str:
    scans = [r for r in records if r["view"] == view]
    if any(d["level"] == level for r in scans for d in r["discs"] + r["findings"]):
        return IMAGED
    inside = position is not None and any(extents[r["id"]].covers(position) for r in scans)
    return IMAGED if inside else NOT_IMAGED


def patient_entry(patient: str, records: list[dict], extents: dict[str, Extent], operating: dict[str, float]) -> dict:
    """One patient's levels head to foot (top imaged disc to bottom one), each with its view status and findings.

    `extents` and `operating` (the operating score threshold) are keyed by scan id.
    """
    entries = _finding_entries(records, operating)
    named = {d["level"] for r in records for d in r["discs"]} | {e["level"] for e in entries}
    named.discard(None)
    span = [ALL_LEVELS.index(level) for level in named]
    levels = list(ALL_LEVELS[min(span): max(span) + 1]) if span else []
    positions = level_positions(records, levels)
    views = sorted({r["view"] for r in records}, key=_view_rank)
    return {
        "patient": patient,
        "scans": {view: [r["id"] for r in records if r["view"] == view] for view in views},
        "join_distance_mm": JOIN_DISTANCE_MM,
        "levels": [
            {"level": level,
             "views": {view: _status(level, view, records, extents, positions.get(level)) for view in views},
             "findings": [e for e in entries if e["level"] == level]}
            for level in levels
        ],
        "unlevelled_findings": [e for e in entries if e["level"] is None],
    }


def patient_entries(records: list[dict], extents: dict[str, Extent], operating: dict[str, float]) -> list[dict]:
    """A `patients` entry per patient of the scan records, in order of first appearance."""
    by_patient: dict[str, list[dict]] = {}
    for record in records:
        by_patient.setdefault(record["patient"], []).append(record)
    return [patient_entry(patient, recs, extents, operating) for patient, recs in by_patient.items()]
