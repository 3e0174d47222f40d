"""Truth and predicted grades of one class on matched levels: every graded truth level that the predictions judged.

A truth level is graded for a class where the scan has a disc or a finding of that class there, or lists the pair as
`normal_mild`, and does not list it as `unlabelled` (a scan's findings are its complete truth, DESIGN.md); a truth
finding without a grade leaves its level out. A level is matched where the prediction scan names a disc or a finding
there. Its predicted grade is its finding's grade when the finding scores at or above the threshold, else none; its
level distribution is (1 - score) for none and score x P(grade | finding) for each grade (score 0 where the
predictions hold no finding of the class there). Grades are level indices (spinedet.data.grades.level_index); a
class on the stenosis scale is graded on the RSNA scale wherever a truth scan lists `normal_mild` pairs of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinedet.data.grades import GRADES, RSNA_SCALE, STENOSIS_GRADES, level_index, level_scale, rsna_index


@dataclass
class GradePairs:
    """Matched levels of one class: truth and predicted grade indices on `scale`, level distributions, patients."""

    name: str
    scale: tuple[str, ...]
    truth: np.ndarray  # (N,) int
    predicted: np.ndarray  # (N,) int
    probabilities: np.ndarray  # (N, len(scale))
    patient: np.ndarray  # (N,) index into patients
    patients: list[str]


def graded_truth(scan: dict, name: str) -> dict[str, int | None]:
    """Level -> the scan's truth level index for class `name` (None where a finding there has no grade)."""
    pairs = {(u["class"], u["level"]) for u in scan.get("unlabelled", [])}
    levels = {d["level"] for d in scan.get("discs", []) if d.get("level")}
    levels |= {p["level"] for p in scan.get("normal_mild", []) if p["class"] == name}
    grades: dict[str, int | None] = {level: 0 for level in levels}
    for f in scan.get("findings", []):
        if f["class"] == name and f.get("level"):
            index = level_index(name, f["grade"]) if "grade" in f else None
            known = grades.get(f["level"], 0)
            grades[f["level"]] = None if index is None or known is None else max(known, index)
    return {level: g for level, g in grades.items() if (name, level) not in pairs}


def predicted_levels(scan: dict, name: str) -> tuple[set[str], dict[str, dict]]:
    """(levels the scan judged, level -> its best-scoring finding of class `name`)."""
    judged = {d["level"] for d in scan.get("discs", []) if d.get("level")}
    best: dict[str, dict] = {}
    for f in scan.get("findings", []):
        if f.get("level"):
            judged.add(f["level"])
            if f["class"] == name and (f["level"] not in best or f["score"] > best[f["level"]]["score"]):
                best[f["level"]] = f
    return judged, best


def level_distribution(name: str, finding: dict | None) -> np.ndarray:
    """P(none), P(grade 1), ... of a level from its predicted finding (score 0 without one)."""
    if finding is None:
        return np.eye(len(GRADES[name]) + 1)[0]
    score = float(finding["score"])
    given = [finding["grade_probabilities"][g] for g in GRADES[name]]
    return np.array([1 - score] + [score * p for p in given])


def uses_rsna_scale(truth: dict, name: str) -> bool:
    """Whether class `name` is graded on the RSNA scale: on the stenosis scale, with `normal_mild` pairs in the truth."""
    return GRADES.get(name) == STENOSIS_GRADES and any(
        p["class"] == name for s in truth["scans"] for p in s.get("normal_mild", []))


def to_rsna(pairs: GradePairs) -> GradePairs:
    """Stenosis-scale pairs on the RSNA scale: none and mild join into normal/mild."""
    probabilities = np.concatenate([pairs.probabilities[:, :2].sum(1, keepdims=True), pairs.probabilities[:, 2:]], 1)
    collapse = np.vectorize(lambda i: rsna_index(pairs.name, int(i)), otypes=[int])
    return GradePairs(pairs.name, RSNA_SCALE, collapse(pairs.truth), collapse(pairs.predicted), probabilities, pairs.patient,
                      pairs.patients)


def grade_pairs(truth: dict, predictions: dict, name: str, threshold: float, scan_ids: set | None = None
                ) -> GradePairs | None:
    """The matched levels of class `name`, or None where the truth grades none of its findings or no prediction
    grades it (the class takes no grade table). On the full level scale (level_scale)."""
    if name not in GRADES:
        return None
    scans = [s for s in truth["scans"] if scan_ids is None or s["id"] in scan_ids]
    if not any("grade" in f for s in scans for f in s.get("findings", []) if f["class"] == name) \
            and not uses_rsna_scale(truth, name):
        return None
    predicted_scans = {s["id"]: s for s in predictions.get("scans", [])}
    if not any("grade_probabilities" in f for s in predicted_scans.values() for f in s.get("findings", [])
               if f["class"] == name):
        return None
    patients = sorted({s["patient"] for s in scans})
    rows = []
    for scan in scans:
        judged, best = predicted_levels(predicted_scans.get(scan["id"], {}), name)
        for level, index in sorted(graded_truth(scan, name).items()):
            if index is None or level not in judged:
                continue
            finding = best.get(level)
            predicted = level_index(name, finding["grade"]) if finding and finding["score"] >= threshold else 0
            rows.append((index, predicted, level_distribution(name, finding), patients.index(scan["patient"])))
    width = len(level_scale(name))
    return GradePairs(name, level_scale(name), np.array([r[0] for r in rows], int), np.array([r[1] for r in rows], int),
                      np.array([r[2] for r in rows]).reshape(-1, width), np.array([r[3] for r in rows], int), patients)
