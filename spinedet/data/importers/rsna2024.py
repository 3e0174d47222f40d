"""RSNA 2024 Lumbar Spine Degenerative Classification: DICOM series, per-level severities and labelled points.

Published layout (Kaggle): train.csv (study_id + 25 `<condition>_<level>` severity columns: Normal/Mild,
Moderate, Severe), train_label_coordinates.csv (study_id, series_id, instance_number, condition, level, x, y),
train_series_descriptions.csv (study_id, series_id, series_description), train_images/<study>/<series>/<n>.dcm.
Moderate and Severe findings become boxes of fixed size (BOX_SIZE_MM) centred on their labelled point, with their
severity as `grade`; (class, level) pairs graded Normal/Mild become the scans' `normal_mild` pairs.
Mapping and caveats: docs/datasets.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom

from spinedet.atomic import atomic_path
from spinedet.data.importers import dicom_points
from spinedet.data.importers.output import check_source, relative_reference
from spinedet.data.importers.report import ImportReport
from spinedet.data.importers.rsna2024_tables import (
    CONDITIONS, IMPORTED_SERIES, read_descriptions, read_points, read_severities)
from spinedet.errors import InputError
from spinedet.io.dicom import list_series
from spinedet.io.geometry import view_of_normal

CENTER = "RSNA2024"
CLASSES = ("stenosis", "subarticular_stenosis", "foraminal_narrowing")
# Box size in LPS mm (x right->left, y anterior->posterior, z inferior->superior) centred on the labelled point.
BOX_SIZE_MM = {
    "stenosis": (20.0, 15.0, 10.0),  # the dural sac at a disc level: canal width, depth, disc height
    "subarticular_stenosis": (10.0, 10.0, 10.0),  # one lateral recess
    "foraminal_narrowing": (10.0, 10.0, 15.0),  # one neural foramen, taller than wide
}
IDENTIFYING_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientBirthTime", "OtherPatientIDs",
                        "OtherPatientNames", "OtherPatientIDsSequence")


def box_around(point: np.ndarray, name: str) -> list[float]:
    """The LPS box of BOX_SIZE_MM[name] centred on `point`."""
    half = np.array(BOX_SIZE_MM[name]) / 2
    return [float(v) for v in np.concatenate([point - half, point + half])]


def pair_list(pairs: set[tuple[str, str]]) -> list[dict]:
    """(class, level) pairs as dataset.json's "unlabelled" list, sorted."""
    return [{"class": name, "level": level} for name, level in sorted(pairs)]


def blank_pairs(grades: dict) -> set[tuple[str, str]]:
    """The (class, level) pairs with a condition-level graded blank or unknown (either side, for sided classes)."""
    return {(CONDITIONS[condition][0], level) for (condition, level), grade in grades.items() if grade == "?"}


def normal_mild_pairs(grades: dict) -> set[tuple[str, str]]:
    """The (class, level) pairs graded Normal/Mild (both sides, for sided classes): graded, with no finding."""
    graded = {(CONDITIONS[condition][0], level) for condition, level in grades}
    return graded - {(CONDITIONS[condition][0], level) for (condition, level), grade in grades.items()
                     if grade is not None}


def study_findings(study: str, grades: dict, points: dict, headers: dict, report: ImportReport):
    """[(finding, [(series, instance, LPS point)])] for the study's moderate and severe findings, or None."""
    unknown = sorted(f"{c} {lv}" for (c, lv), g in grades.items() if g == "?")
    if len(unknown) == len(grades):
        report.skip("studies", f"study {study}", "no condition-level has a severity: nothing in it is labelled")
        return None
    if unknown:
        report.problem(f"study {study}", f"severity blank or unknown for {len(unknown)} condition-level(s), e.g. "
                       f"{unknown[0]}: kept, with those (class, level) pairs listed as unlabelled")
    located = []
    for (condition, level), severity in sorted(grades.items()):
        if severity in (None, "?"):
            continue
        name, side = CONDITIONS[condition]
        candidates = []
        for series, instance, x, y in points.get((condition, level), []):
            ds = headers.get(series, {}).get(instance)
            if ds is not None:
                candidates.append((series, instance, dicom_points.point_lps(ds, x, y)))
        if not candidates:
            report.skip("studies", f"study {study}", f"{severity} {condition} at {level} has no labelled point on a "
                        "readable instance, so it cannot be boxed")
            return None
        finding = {"class": name, "level": level, "grade": severity}
        if side:
            finding["side"] = side
        located.append((finding, candidates))
    return located


def findings_in_stack(series: str, instances: set[int], located, headers: dict, where: str,
                      report: ImportReport) -> tuple[list[dict], set[tuple[str, str]]]:
    """Findings inside one stack (labelled on it, or inside it and labelled in the same frame of reference), and
    the (class, level) pairs of findings labelled elsewhere that cannot be placed for want of a frame of reference."""
    stack = {n: headers[series][n] for n in instances}
    frame = dicom_points.frame_of_reference(stack)
    findings, unplaced = [], []
    for finding, candidates in located:
        own = [p for s, n, p in candidates if s == series and n in instances]
        shared = [p for s, n, p in candidates if not (s == series and n in instances) and frame is not None
                  and dicom_points.frame_of_reference(headers[s]) == frame and dicom_points.contains(stack, p)]
        if own or shared:
            findings.append({**finding, "box_lps": box_around((own or shared)[0], finding["class"])})
        elif frame is None:
            unplaced.append(finding)
    if unplaced:
        report.problem(where, f"no single FrameOfReferenceUID: {len(unplaced)} finding(s) labelled on other series "
                       "or stacks cannot be placed in it; their (class, level) pairs are listed as unlabelled")
    return findings, {(f["class"], f["level"]) for f in unplaced}


def copy_deidentified(files: list[Path], target: Path, overwrite: bool) -> None:
    """Copy DICOM files into `target` with patient name, IDs and birth date removed."""
    for path in files:
        ds = pydicom.dcmread(path)
        for keyword in IDENTIFYING_KEYWORDS:
            if keyword in ds:
                delattr(ds, keyword)
        with atomic_path(target / path.name, overwrite) as tmp:
            ds.save_as(tmp)


def series_stacks(folder: Path, copy: bool, report: ImportReport):
    """The stacks spinedet would load from a series folder, or None after reporting why it cannot be imported."""
    try:
        stacks = list_series(folder)
    except InputError as exc:
        report.skip("series", str(folder), exc.problem)
        return None
    bad = next((s for s in stacks if s.problem), None)
    if bad is not None:
        report.skip("series", str(folder), f"stack {bad.key}: {bad.problem}")
        return None
    if len(stacks) > 1 and not copy:
        report.skip("series", str(folder), f"holds {len(stacks)} stacks of different orientation or echo; a dataset "
                    "image is one stack, so import with --copy, which writes one folder per stack")
        return None
    return stacks


def import_series(study: str, series: str, description: str, located, grades: dict, headers: dict, images: Path,
                  out_dir: Path, copy: bool, overwrite: bool, report: ImportReport) -> list[dict]:
    """One scan entry per stack of an imported series; `grades`: the study's severities, for the (class, level) pairs
    not graded (unlabelled) and those graded Normal/Mild."""
    unlabelled = blank_pairs(grades)
    folder = images / study / series
    stacks = series_stacks(folder, copy, report)
    scans = []
    for stack in stacks or []:
        suffix = f"-{stack.stack + 1}" if len(stacks) > 1 else ""
        view, _ = view_of_normal(np.asarray(stack.affine)[:3, 0])
        if view != IMPORTED_SERIES[description]:
            report.skip("series", f"{folder} stack {stack.key}", f"described as {description!r}, geometry {view}")
            continue
        image = folder
        if copy:
            image = out_dir / "images" / study / f"{series}{suffix}"
            copy_deidentified(stack.files, image, overwrite)
        instances = {int(p.stem) if p.stem.isdigit() else int(stack.header.InstanceNumber) for p in stack.files}
        findings, unplaced = findings_in_stack(series, instances, located, headers, f"{folder}{suffix}", report)
        scan = {
            "id": f"rsna-{study}-{series}{suffix}",
            "patient": f"rsna-{study}",
            "center": CENTER,
            "region": "lumbar",
            "view": view,
            "image": relative_reference(image, out_dir),
            "sequence": description,
            "findings": findings,
            "discs": [],
        }
        if unlabelled | unplaced:
            scan["unlabelled"] = pair_list(unlabelled | unplaced)
        if normal_mild_pairs(grades):
            scan["normal_mild"] = pair_list(normal_mild_pairs(grades))
        scans.append(scan)
    return scans


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
        if description in IMPORTED_SERIES and series in headers:
            scans += import_series(study, series, description, located, grades, headers, images, out_dir, copy,
                                   overwrite, report)
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
