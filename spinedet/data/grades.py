"""Severity grades: each disease class's ordinal scale, mildest first, and the checks dataset.json applies to them.

A finding's `grade` is one of its class's GRADES; a class without a scale (bulge) takes none. Every disc may carry a
`pfirrmann` grade I-V (SPIDER grades every disc). At a level, grade index 0 means no finding and index n the n-th
grade of the scale (level_index), so that a level is graded even where nothing was found. The RSNA 2024 scale joins
normal and mild: its graded levels without a finding are a scan's `normal_mild` pairs (docs/datasets.md).
"""

from __future__ import annotations

import math

STENOSIS_GRADES = ("mild", "moderate", "severe")  # RSNA 2024 and SpineNet canal stenosis
GRADES = {
    "stenosis": STENOSIS_GRADES,
    "subarticular_stenosis": STENOSIS_GRADES,  # RSNA 2024's other two conditions, on the same scale
    "foraminal_narrowing": STENOSIS_GRADES,
    "degenerated_disc": ("III", "IV", "V"),  # Pfirrmann et al., Spine 2001;26:1873
    "herniation": ("protrusion", "extrusion"),  # Fardon et al., Spine J 2014;14:2525 (MSU/NASS nomenclature 2.0)
}
PFIRRMANN = ("I", "II", "III", "IV", "V")
NORMAL_MILD = "normal/mild"
RSNA_SCALE = (NORMAL_MILD, "moderate", "severe")  # the challenge's three severities
PROBABILITY_SUM_TOLERANCE = 1e-3


def grade_counts(classes: list[str]) -> list[int]:
    """The number of grades of each class (0 for a class without a scale), as the judge's grade head holds them."""
    return [len(GRADES.get(name, ())) for name in classes]


def level_scale(name: str) -> tuple[str, ...]:
    """The grades of a level of class `name`, index 0 being no finding: ('none', 'mild', 'moderate', 'severe')."""
    return ("none", *GRADES[name])


def level_index(name: str, grade: str | None) -> int:
    """A level's grade index: 0 for no finding (`grade` None), else 1 + the grade's place in its class's scale."""
    return 0 if grade is None else 1 + GRADES[name].index(grade)


def rsna_index(name: str, index: int) -> int:
    """A stenosis-scale level index (0 none, 1 mild, 2 moderate, 3 severe) on the RSNA scale (normal/mild, moderate,
    severe): none and mild join."""
    if GRADES.get(name) != STENOSIS_GRADES:
        raise ValueError(f"{name} is not graded on the stenosis scale")
    return max(index - 1, 0)


def _is_probability(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 1


def finding_grade_problems(entry: dict, where: str) -> list[str]:
    """Problems of a finding's `grade`, and of a prediction's `grade_probability` and `grade_probabilities` (the
    finding's class a string, already checked)."""
    name = entry.get("class")
    scale = GRADES.get(name, ())
    problems = []
    if "grade" in entry and entry["grade"] not in scale:
        allowed = f"one of {list(scale)}" if scale else "absent: the class has no grades"
        problems.append(f"{where}.grade: {entry['grade']!r} for {name} must be {allowed}")
    if "grade_probability" in entry and not _is_probability(entry["grade_probability"]):
        problems.append(f"{where}.grade_probability: {entry['grade_probability']!r} must be a number in [0, 1]")
    if "grade_probabilities" in entry:
        probabilities = entry["grade_probabilities"]
        if (not isinstance(probabilities, dict) or set(probabilities) != set(scale)
                or not all(_is_probability(p) for p in probabilities.values())):
            problems.append(f"{where}.grade_probabilities: must map each grade of {name} {list(scale)} to a number "
                            "in [0, 1]")
        elif abs(sum(probabilities.values()) - 1) > PROBABILITY_SUM_TOLERANCE:
            problems.append(f"{where}.grade_probabilities: sum to {sum(probabilities.values()):.4f}, not 1")
    return problems


def disc_grade_problems(entry: dict, where: str) -> list[str]:
    """Problems of a disc's optional `pfirrmann` grade."""
    if "pfirrmann" in entry and entry["pfirrmann"] not in PFIRRMANN:
        return [f"{where}.pfirrmann: {entry['pfirrmann']!r} must be one of {list(PFIRRMANN)}"]
    return []


def _pair(entry) -> tuple | None:
    """(class, level) of a dict entry whose class and level are strings, else None (reported elsewhere)."""
    if isinstance(entry, dict) and isinstance(entry.get("class"), str) and isinstance(entry.get("level"), str):
        return entry["class"], entry["level"]
    return None


def normal_mild_problems(pairs: list, where: str, findings: list, unlabelled: list) -> list[str]:
    """Problems of a scan's `normal_mild` pairs beyond their form: a class off the stenosis scale, or a pair that also
    has a finding or is also unlabelled."""
    found = {_pair(f) for f in findings}
    left_out = {_pair(u) for u in unlabelled}
    problems = []
    for m, key in enumerate(_pair(pair) for pair in pairs):
        if key is None:
            continue
        if GRADES.get(key[0]) != STENOSIS_GRADES:
            problems.append(f"{where}[{m}].class: {key[0]} is not graded on the stenosis scale")
        elif key in found:
            problems.append(f"{where}[{m}]: {key[0]} at {key[1]} is graded normal/mild but has a finding")
        elif key in left_out:
            problems.append(f"{where}[{m}]: {key[0]} at {key[1]} is graded normal/mild but listed as unlabelled")
    return problems
