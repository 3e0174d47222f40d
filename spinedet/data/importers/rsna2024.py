"""RSNA 2024 Lumbar Spine Degenerative Classification: DICOM series, per-level severities and labelled points.

Published layout (Kaggle): train.csv (study_id + 25 `<condition>_<level>` severity columns: Normal/Mild,
Moderate, Severe), train_label_coordinates.csv (study_id, series_id, instance_number, condition, level, x, y),
train_series_descriptions.csv (study_id, series_id, series_description), train_images/<study>/<series>/<n>.dcm.
Moderate and Severe findings become boxes of fixed size (BOX_SIZE_MM) centred on their labelled point.
Mapping and caveats: docs/datasets.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pydicom

from spinedet.atomic import atomic_path
from spinedet.data.importers import dicom_points
from spinedet.data.importers.csv_table import integer, read_table
from spinedet.data.importers.output import check_source, relative_reference
from spinedet.data.importers.report import ImportReport
from spinedet.errors import InputError
from spinedet.io.geometry import view_of_normal

CENTER = "RSNA2024"
CLASSES = ("stenosis", "subarticular_stenosis", "foraminal_narrowing")
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
# Box size in LPS mm (x right->left, y anterior->posterior, z inferior->superior) centred on the labelled point.
BOX_SIZE_MM = {
    "stenosis": (20.0, 15.0, 10.0),  # the dural sac at a disc level: canal width, depth, disc height
    "subarticular_stenosis": (10.0, 10.0, 10.0),  # one lateral recess
    "foraminal_narrowing": (10.0, 10.0, 15.0),  # one neural foramen, taller than wide
}
IMPORTED_SERIES = {"Sagittal T2/STIR": "sagittal", "Axial T2": "axial"}
KNOWN_SERIES = (*IMPORTED_SERIES, "Sagittal T1")
COLUMN = re.compile(r"^(?P<condition>[a-z_]+)_(?P<level>l[1-5]_(?:l[1-5]|s1))$")
IDENTIFYING_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs", "OtherPatientNames",
                        "OtherPatientIDsSequence", "PatientBirthTime")


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
    columns = {}
    for column in rows[0].keys() if rows else ():
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


def box_around(point: np.ndarray, name: str) -> list[float]:
    """The LPS box of BOX_SIZE_MM[name] centred on `point`."""
    half = np.array(BOX_SIZE_MM[name]) / 2
    return [float(v) for v in np.concatenate([point - half, point + half])]


def study_findings(study: str, grades: dict, points: dict, headers: dict, report: ImportReport):
    """[(finding, series it was labelled on, LPS point)] for the study's moderate and severe findings, or None."""
    unknown = sorted(f"{c} {lv}" for (c, lv), g in grades.items() if g == "?")
    if unknown:
        report.skip("studies", f"study {study}", f"severity blank or unknown for {len(unknown)} condition-level(s), "
                    f"e.g. {unknown[0]}: the truth of its scans would be incomplete")
        return None
    located = []
    for (condition, level), severity in sorted(grades.items()):
        if severity is None:
            continue
        name, side = CONDITIONS[condition]
        candidates = []
        for series, instance, x, y in points.get((condition, level), []):
            ds = headers.get(series, {}).get(instance)
            if ds is not None:
                candidates.append((series, dicom_points.point_lps(ds, x, y)))
        if not candidates:
            report.skip("studies", f"study {study}", f"{severity} {condition} at {level} has no labelled point on a "
                        "readable instance, so it cannot be boxed")
            return None
        finding = {"class": name, "level": level, "severity": severity}
        if side:
            finding["side"] = side
        located.append((finding, candidates))
    return located


def findings_for_series(series: str, located, headers: dict) -> list[dict]:
    """The study's findings inside one series: its own labels, and others' in the same frame of reference."""
    frame = dicom_points.frame_of_reference(headers[series])
    findings = []
    for finding, candidates in located:
        own = [p for s, p in candidates if s == series]
        shared = [p for s, p in candidates if s != series and frame is not None
                  and dicom_points.frame_of_reference(headers[s]) == frame
                  and dicom_points.contains(headers[series], p)]
        if own or shared:
            findings.append({**finding, "box_lps": box_around((own or shared)[0], finding["class"])})
    return findings


def copy_deidentified(folder: Path, target: Path, overwrite: bool) -> None:
    """Copy a series' .dcm files with patient name, IDs and birth date removed."""
    for path in sorted(folder.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        for keyword in IDENTIFYING_KEYWORDS:
            if keyword in ds:
                delattr(ds, keyword)
        with atomic_path(target / path.name, overwrite) as tmp:
            ds.save_as(tmp)


def import_study(study: str, series_of: dict[str, str], grades, points, images: Path, out_dir: Path, copy: bool,
                 overwrite: bool, report: ImportReport) -> list[dict]:
    """Scan entries for the sagittal T2/STIR and axial T2 series of one study."""
    headers = {}
    for series in sorted(series_of):
        folder = images / study / series
        if not folder.is_dir():
            report.skip("series", str(folder), "missing")
            continue
        found, why = dicom_points.read_series_headers(folder)
        if why:
            report.skip("series", str(folder), why)
            continue
        headers[series] = found
    located = study_findings(study, grades, points, headers, report)
    if located is None:
        return []
    scans = []
    for series, description in sorted(series_of.items()):
        if description not in IMPORTED_SERIES or series not in headers:
            continue
        view, tilt = view_of_normal(dicom_points.slice_normal(headers[series]))
        folder = images / study / series
        if view != IMPORTED_SERIES[description]:
            report.skip("series", str(folder), f"described as {description!r} but its geometry is {view}")
            continue
        if copy:
            target = out_dir / "images" / study / series
            copy_deidentified(folder, target, overwrite)
            folder = target
        scans.append({
            "id": f"rsna-{study}-{series}",
            "patient": f"rsna-{study}",
            "center": CENTER,
            "region": "lumbar",
            "view": view,
            "image": relative_reference(folder, out_dir),
            "sequence": description,
            "findings": findings_for_series(series, located, headers),
            "discs": [],
        })
    return scans


def import_rsna2024(src: Path, out_dir: Path, *, copy: bool = False, overwrite: bool = False,
                    report: ImportReport | None = None) -> list[dict]:
    """Scan entries for every sound study under `src`; problems go to `report`."""
    src = check_source(src)
    report = report or ImportReport("rsna2024")
    images = src / "train_images"
    if not images.is_dir():
        raise InputError(images, "missing: not an RSNA 2024 folder (expected train_images/ and the three CSV files)")
    severities = read_severities(src / "train.csv", report)
    points = read_points(src / "train_label_coordinates.csv", report)
    descriptions = read_descriptions(src / "train_series_descriptions.csv", report)
    studies = sorted({p.name for p in images.iterdir() if p.is_dir()} | set(severities or {}))
    scans = []
    for study in studies:
        where = f"study {study}"
        if not (images / study).is_dir():
            report.skip("studies", where, f"listed in train.csv but {images / study} is missing")
        elif severities is None or points is None or descriptions is None:
            report.skip("studies", where, "a CSV file it needs is missing or unreadable (see above)")
        elif study not in severities:
            report.skip("studies", where, "has images but no row in train.csv")
        elif not set(descriptions.get(study, {}).values()) & set(IMPORTED_SERIES):
            report.skip("studies", where, "has no sagittal T2/STIR or axial T2 series in train_series_descriptions.csv")
        else:
            scans += import_study(study, descriptions[study], severities[study], points.get(study, {}), images,
                                  out_dir, copy, overwrite, report)
    return scans
