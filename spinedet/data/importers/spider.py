"""SPIDER (van der Graaf et al., Sci Data 2024): sagittal T2 .mha scans, disc masks and per-disc gradings.

Published layout (zenodo record 10159290): images/<patient>_<sequence>.mha, masks/<same name>.mha,
overview.csv, radiological_gradings.csv. Mask values: 1-25 vertebrae and 201-225 discs, both numbered
from the bottom (vertebra 1 = L5, disc 201 = L5/S1), 100 spinal canal, 101-125 partly visible vertebrae.
The gradings' `IVD label` N is mask label 200 + N. Mapping and caveats: docs/datasets.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from scipy import ndimage

from spinedet.data.importers.csv_table import integer, read_table
from spinedet.data.importers.output import check_source, copy_file, relative_reference
from spinedet.data.grades import PFIRRMANN
from spinedet.data.importers.report import ImportReport
from spinedet.data.levels import ALL_LEVELS
from spinedet.errors import InputError
from spinedet.io import geometry
from spinedet.io.image_file import read_volume

CENTER = "SPIDER"
CLASSES = ("herniation", "bulge", "degenerated_disc")  # SPIDER grades no canal stenosis, so it is not claimed
T2_SEQUENCES = ("t2", "t2_SPACE")
ALL_SEQUENCES = ("t1", "t2", "t2_SPACE")
IMAGE_NAME = re.compile(r"^(\d+)_(t1|t2|t2_SPACE)\.mha$")
DISC_LABEL_OFFSET = 200
CANAL_LABEL = 100
GRADING_COLUMNS = ("Patient", "IVD label", "Disc herniation", "Disc bulging", "Pfirrman grade")
DEGENERATED_PFIRRMANN = 4  # Pfirrmann IV-V is `degenerated_disc` (DESIGN.md)
GEOMETRY_TOLERANCE = 1e-3


def disc_level(mask_label: int) -> str | None:
    """The level of a SPIDER disc label: 201 -> L5/S1, 202 -> L4/L5, ... counted up from the sacrum."""
    n = mask_label - DISC_LABEL_OFFSET
    return ALL_LEVELS[-n] if 1 <= n <= len(ALL_LEVELS) else None


def known_mask_label(value: int) -> bool:
    """Whether a mask value is in SPIDER's label convention."""
    return value == 0 or 1 <= value <= 25 or value == CANAL_LABEL or 101 <= value <= 125 or 201 <= value <= 225


def read_gradings(path: Path, report: ImportReport) -> dict[str, dict[int, dict]] | None:
    """patient -> IVD label -> {'herniation', 'bulge', 'pfirrmann'}; rows with bad values are reported and left out."""
    rows = read_table(path, GRADING_COLUMNS, report)
    if rows is None:
        return None
    gradings: dict[str, dict[int, dict]] = {}
    for n, row in enumerate(rows, start=2):
        where = f"{path.name} line {n}"
        patient, ivd = integer(row["Patient"]), integer(row["IVD label"])
        values = {
            "herniation": integer(row["Disc herniation"]),
            "bulge": integer(row["Disc bulging"]),
            "pfirrmann": integer(row["Pfirrman grade"]),
        }
        if patient is None or ivd is None or not 1 <= ivd <= len(ALL_LEVELS):
            names = f"patient {row['Patient']!r} / IVD label {row['IVD label']!r}"
            report.skip("grading rows", where, f"{names} names no disc")
            continue
        binary_ok = values["herniation"] in (0, 1) and values["bulge"] in (0, 1)
        if not binary_ok or values["pfirrmann"] not in range(1, 6):
            report.skip("grading rows", where, f"patient {patient} disc {ivd}: unexpected grades {values}")
            continue
        gradings.setdefault(str(patient), {})[ivd] = values
    return gradings


def mask_discs(mask: np.ndarray, affine: np.ndarray, where: str, report: ImportReport) -> dict[int, list[float]]:
    """IVD label N -> LPS box of all voxels of mask label 200 + N (the whole disc, any protruding part included)."""
    values = np.unique(mask)
    strange = [int(v) for v in values if not known_mask_label(int(v))]
    if strange:
        report.problem(where, f"mask values {strange[:8]} are outside SPIDER's convention; ignored")
    labels = np.where((mask > DISC_LABEL_OFFSET) & (mask <= DISC_LABEL_OFFSET + 25), mask, 0).astype(np.int32)
    boxes = {}
    for index, slices in enumerate(ndimage.find_objects(labels), start=1):
        if slices is None:
            continue
        if disc_level(index) is None:
            report.problem(where, f"disc label {index} names no level between C2/C3 and L5/S1; ignored")
            continue
        box_voxel = np.array([s.start - 0.5 for s in slices] + [s.stop - 0.5 for s in slices])
        boxes[index - DISC_LABEL_OFFSET] = [float(v) for v in geometry.box_voxel_to_world(box_voxel, affine)]
    return boxes


def scan_findings(grades: dict[int, dict], boxes: dict[int, list[float]], where: str, report: ImportReport):
    """Findings of one scan from its patient's gradings, or None when a graded finding has no disc to box."""
    findings = []
    for ivd, values in sorted(grades.items()):
        classes = [c for c, on in (("herniation", values["herniation"] == 1), ("bulge", values["bulge"] == 1),
                                   ("degenerated_disc", values["pfirrmann"] >= DEGENERATED_PFIRRMANN)) if on]
        if classes and ivd not in boxes:
            report.skip("scans", where, f"{classes} graded at {disc_level(DISC_LABEL_OFFSET + ivd)} "
                        f"(IVD label {ivd}) but the mask has no disc {DISC_LABEL_OFFSET + ivd} to box")
            return None
        for name in classes:
            finding = {"class": name, "level": disc_level(DISC_LABEL_OFFSET + ivd), "box_lps": boxes[ivd]}
            if name == "degenerated_disc":
                finding["grade"] = PFIRRMANN[values["pfirrmann"] - 1]
            findings.append(finding)
    ungraded = sorted(set(boxes) - set(grades))
    if ungraded:
        report.problem(where, f"discs {[disc_level(DISC_LABEL_OFFSET + n) for n in ungraded]} are segmented but "
                       "not graded: kept as discs, with no finding")
    return findings


def scan_discs(grades: dict[int, dict], boxes: dict[int, list[float]]) -> list[dict]:
    """Disc entries, cranial first, each graded disc with its Pfirrmann grade (I-V)."""
    discs = []
    for n, box in sorted(boxes.items(), reverse=True):
        disc = {"level": disc_level(DISC_LABEL_OFFSET + n), "box_lps": box}
        if n in grades:
            disc["pfirrmann"] = PFIRRMANN[grades[n]["pfirrmann"] - 1]
        discs.append(disc)
    return discs


def import_scan(image: Path, patient: str, sequence: str, grades, out_dir: Path, copy: bool, overwrite: bool,
                report: ImportReport) -> dict | None:
    """One scan entry from an image and its mask, or None after reporting why not."""
    where = str(image)
    mask_path = image.parent.parent / "masks" / image.name
    if not mask_path.is_file():
        report.skip("scans", where, f"no mask {mask_path}")
        return None
    try:
        array, affine = read_volume(image)
        mask, mask_affine = read_volume(mask_path)
    except InputError as exc:
        report.skip("scans", where, str(exc))
        return None
    if array.shape != mask.shape or not np.allclose(affine, mask_affine, atol=GEOMETRY_TOLERANCE):
        report.skip("scans", where, f"image {array.shape} and mask {mask.shape} differ in size or geometry")
        return None
    slice_axis = geometry.guess_slice_axis(affine, array.shape)
    view, _ = geometry.view_of_normal(affine[:3, slice_axis])
    if view != "sagittal":
        report.skip("scans", where, f"its geometry is {view}; SPIDER scans are sagittal")
        return None
    boxes = mask_discs(np.rint(mask).astype(np.int64), mask_affine, str(mask_path), report)
    findings = scan_findings(grades, boxes, where, report)
    if findings is None:
        return None
    if copy:
        target = out_dir / "images" / image.name
        copy_file(image, target, overwrite)
        image = target
    return {
        "id": f"spider-{patient}-{sequence}",
        "patient": f"spider-{patient}",
        "center": CENTER,
        "region": "lumbar",
        "view": "sagittal",
        "image": relative_reference(image, out_dir),
        "sequence": sequence,
        "findings": findings,
        "discs": scan_discs(grades, boxes),
    }


def import_spider(src: Path, out_dir: Path, *, sequences=T2_SEQUENCES, copy: bool = False, overwrite: bool = False,
                  report: ImportReport | None = None) -> list[dict]:
    """Scan entries for every sound SPIDER T2 scan under `src`; problems go to `report`."""
    src = check_source(src)
    report = report or ImportReport("spider")
    images_dir = src / "images"
    if not images_dir.is_dir():
        raise InputError(images_dir, "missing: not a SPIDER folder (expected images/, masks/ and the two CSV files)")
    if not (src / "overview.csv").is_file():
        report.problem(str(src / "overview.csv"), "missing (scanner metadata only; the import goes on without it)")
    gradings = read_gradings(src / "radiological_gradings.csv", report)
    scans = []
    for image in sorted(images_dir.iterdir(), key=lambda p: p.name):
        match = IMAGE_NAME.match(image.name)
        if not match:
            report.skip("files", str(image), "name is not <patient>_<t1|t2|t2_SPACE>.mha")
            continue
        patient, sequence = match.groups()
        if sequence not in sequences:
            continue
        if gradings is None:
            report.skip("scans", str(image), "radiological_gradings.csv is missing or unreadable: no finding known")
            continue
        if patient not in gradings:
            report.skip("scans", str(image), f"patient {patient} has no row in radiological_gradings.csv")
            continue
        scan = import_scan(image, patient, sequence, gradings[patient], out_dir, copy, overwrite, report)
        if scan is not None:
            scans.append(scan)
    return scans
