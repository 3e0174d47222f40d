"""The RSNA 2024 lumbar CSV files: conditions, levels, severities, labelled points and series descriptions."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from spinedet.data.importers.csv_table import integer, read_table
from spinedet.data.importers.report import ImportReport

# condition (train.csv column prefix, or the coordinate file's words joined by '_') -> (class, side)
CONDITIONS = {
    "spinal_canal_stenosis": ("stenosis", None),
    "left_subarticular_stenosis": ("subarticular_stenosis", "left"),
    "right_subarticular_stenosis": ("subarticular_stenosis", "right"),
    "left_neural_foraminal_narrowing": ("foraminal_narrowing", "left"),
    "right_neural_foraminal_narrowing": ("foraminal_narrowing", "right"),
}
LEVELS = ("L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1")
SEVERITIES = {"normal/mild": None, "moderate": "moderate", "severe": "severe"}
IMPORTED_SERIES = {"Sagittal T2/STIR": "sagittal", "Axial T2": "axial"}
KNOWN_SERIES = (*IMPORTED_SERIES, "Sagittal T1")
COLUMN = re.compile(r"^(?P<condition>[a-z_]+)_(?P<level>l[1-5]_(?:l[1-5]|s1))$")


def condition_key(text: str) -> str | None:
    """'Left Neural Foraminal Narrowing' or 'left_neural_foraminal_narrowing' -> the key of CONDITIONS."""
    key = re.sub(r"[\s_]+", "_", text.strip().lower())
    return key if key in CONDITIONS else None


def level_name(text: str) -> str | None:
    """'L4/L5' or 'l4_l5' -> 'L4/L5'; None when not one of the five lumbar levels."""
    name = text.strip().upper().replace("_", "/")
    return name if name in LEVELS else None


def read_severities(path: Path, report: ImportReport) -> dict[str, dict] | None:
    """study -> {(condition, level): 'moderate' | 'severe' | None (normal/mild) | '?' (blank or unknown)}."""
    rows = read_table(path, ("study_id",), report)
    if rows is None:
        return None
    if not rows:
        report.problem(str(path), "has no study rows")
        return {}
    columns = {}
    for column in rows[0]:
        match = COLUMN.match(column)
        if column == "study_id":
            continue
        if not match or condition_key(match["condition"]) is None or level_name(match["level"]) is None:
            report.problem(str(path), f"column {column!r} is no known condition and level; ignored")
            continue
        columns[column] = (condition_key(match["condition"]), level_name(match["level"]))
    expected = {(c, lv) for c in CONDITIONS for lv in LEVELS}
    if set(columns.values()) != expected:
        report.problem(str(path), f"lacks {len(expected - set(columns.values()))} of the 25 condition-level columns; "
                       "those are unknown for every study")
    studies = {}
    for row in rows:
        grades = {key: "?" for key in expected}
        for column, key in columns.items():
            grades[key] = SEVERITIES.get(row[column].lower(), "?")
        studies[row["study_id"]] = grades
    return studies


def read_points(path: Path, report: ImportReport) -> dict[str, dict] | None:
    """study -> {(condition, level): [(series, instance, x, y), ...]}; bad rows reported and left out."""
    rows = read_table(path, ("study_id", "series_id", "instance_number", "condition", "level", "x", "y"), report)
    if rows is None:
        return None
    points: dict[str, dict] = {}
    for n, row in enumerate(rows, start=2):
        key = (condition_key(row["condition"]), level_name(row["level"]))
        instance = integer(row["instance_number"])
        try:
            x, y = float(row["x"]), float(row["y"])
        except ValueError:
            x = y = float("nan")
        if None in key or instance is None or not np.isfinite([x, y]).all():
            report.skip("coordinate rows", f"{path.name} line {n}", f"unknown condition {row['condition']!r}, level "
                        f"{row['level']!r}, or bad instance/x/y")
            continue
        points.setdefault(row["study_id"], {}).setdefault(key, []).append((row["series_id"], instance, x, y))
    return points


def read_descriptions(path: Path, report: ImportReport) -> dict[str, dict[str, str]] | None:
    """study -> series -> description, for the three published descriptions."""
    rows = read_table(path, ("study_id", "series_id", "series_description"), report)
    if rows is None:
        return None
    series: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["series_description"] not in KNOWN_SERIES:
            report.skip("series", f"study {row['study_id']} series {row['series_id']}",
                        f"unknown description {row['series_description']!r}")
            continue
        series.setdefault(row["study_id"], {})[row["series_id"]] = row["series_description"]
    return series
