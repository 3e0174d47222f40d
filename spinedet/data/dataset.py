"""dataset.json: the one format for ground truth and predictions (../shared/DESIGN.md)."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

from spinedet.atomic import write_json
from spinedet.data.grades import disc_grade_problems, finding_grade_problems, normal_mild_problems
from spinedet.data.levels import ALL_LEVELS
from spinedet.errors import InputError

FORMAT = "spinedet-dataset/1"
DISEASE_CLASSES = ("herniation", "bulge", "degenerated_disc", "stenosis")
DISC_CLASS = "disc"
REGIONS = ("lumbar", "cervical")
VIEWS = ("sagittal", "axial", "coronal")
SPLITS = ("train", "val", "test")


def new_dataset(classes=DISEASE_CLASSES) -> dict:
    return {"format": FORMAT, "classes": list(classes), "scans": []}


def _box_problem(box) -> str | None:
    if not isinstance(box, (list, tuple)) or len(box) != 6:
        return "must be a list of 6 numbers [x0, y0, z0, x1, y1, z1]"
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in box):
        return "must hold 6 finite numbers"
    if not all(box[d] < box[d + 3] for d in range(3)):
        return f"has zero or negative extent {box} (need x0<x1, y0<y1, z0<z1)"
    return None


def _entry_problems(entry, where: str, classes, is_finding: bool) -> list[str]:
    problems = []
    if not isinstance(entry, dict):
        return [f"{where}: must be an object"]
    if is_finding and entry.get("class") not in classes:
        problems.append(f"{where}.class: {entry.get('class')!r} is not one of the dataset's classes {list(classes)}")
    level = entry.get("level")
    if level is not None and level not in ALL_LEVELS:
        problems.append(f"{where}.level: {level!r} is not a spinal level such as 'L4/L5' or 'C5/C6'")
    problem = _box_problem(entry.get("box_lps"))
    if problem:
        problems.append(f"{where}.box_lps: {problem}")
    if "score" in entry and not (isinstance(entry["score"], (int, float)) and 0.0 <= entry["score"] <= 1.0):
        problems.append(f"{where}.score: {entry['score']!r} must be a number in [0, 1]")
    if not is_finding:
        return problems + disc_grade_problems(entry, where)
    known = entry.get("class") in classes  # an unknown class is one problem, not also its grade's
    return problems + (finding_grade_problems(entry, where) if known else [])


def _pair_problems(pair, at: str, classes) -> list[str]:
    if not isinstance(pair, dict):
        return [f"{at}: must be an object with 'class' and 'level'"]
    problems = []
    if pair.get("class") not in classes:
        problems.append(f"{at}.class: {pair.get('class')!r} is not one of the dataset's classes {list(classes)}")
    if pair.get("level") not in ALL_LEVELS:
        problems.append(f"{at}.level: {pair.get('level')!r} is not a spinal level such as 'L4/L5' or 'C5/C6'")
    return problems


def _pairs_problems(pairs, where: str, classes) -> list[str]:
    """Problems of a scan's optional list of (class, level) pairs: "unlabelled" (pairs the annotation did not judge)
    or "normal_mild" (pairs graded normal/mild on the RSNA scale)."""
    if not isinstance(pairs, list):
        return [f"{where}: must be a list of objects with 'class' and 'level'"]
    problems, seen = [], set()
    for m, pair in enumerate(pairs):
        found = _pair_problems(pair, f"{where}[{m}]", classes)
        if not found:
            key = (pair["class"], pair["level"])
            if key in seen:
                found = [f"{where}[{m}]: {key[0]} at {key[1]} is listed twice"]
            seen.add(key)
        problems += found
    return problems


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _image_problem(path: Path) -> str | None:
    """Why a scan's image path cannot be an image: missing, unreachable, or a folder without files; else None."""
    try:
        if not path.exists():
            return "does not exist"
        if path.is_dir() and not any(p.is_file() for p in path.rglob("*")):
            return "is a folder without files (no image or DICOM series in it)"
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, a folder that cannot be read
        return f"cannot be looked at ({type(exc).__name__}: {exc})"
    return None


def validate(data, base_dir: Path | None = None) -> list[str]:
    """Every problem in a parsed dataset as 'scan <id>: <field>: <problem>'; images checked when base_dir given."""
    if not isinstance(data, dict):
        return ["top level: must be a JSON object"]
    problems = []
    if data.get("format") != FORMAT:
        problems.append(f"format: {data.get('format')!r} should be {FORMAT!r}")
    classes = data.get("classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        problems.append("classes: must be a non-empty list of class names")
        classes = []
    elif DISC_CLASS in classes:
        problems.append(f"classes: {DISC_CLASS!r} is anatomy, listed under 'discs', not a disease class")
    scans = data.get("scans")
    if not isinstance(scans, list):
        return problems + ["scans: must be a list"]
    seen = Counter(s.get("id") for s in scans if isinstance(s, dict) and isinstance(s.get("id"), str))
    for n, scan in enumerate(scans):
        if not isinstance(scan, dict):
            problems.append(f"scans[{n}]: must be an object")
            continue
        sid = scan.get("id")
        where = f"scan {sid}" if isinstance(sid, str) and sid else f"scans[{n}]"
        if not isinstance(sid, str) or not sid:
            problems.append(f"{where}.id: missing or not a string")
        elif seen[sid] > 1:
            problems.append(f"{where}.id: used by {seen[sid]} scans")
        for key in ("patient", "center"):
            if not isinstance(scan.get(key), str) or not scan.get(key):
                problems.append(f"{where}.{key}: missing or not a string")
        if scan.get("region") not in REGIONS:
            problems.append(f"{where}.region: {scan.get('region')!r} is not one of {list(REGIONS)}")
        if scan.get("view") not in VIEWS:
            problems.append(f"{where}.view: {scan.get('view')!r} is not one of {list(VIEWS)}")
        if "split" in scan and scan["split"] not in SPLITS:
            problems.append(f"{where}.split: {scan['split']!r} is not one of {list(SPLITS)}")
        image = scan.get("image")
        if not isinstance(image, str) or not image:
            problems.append(f"{where}.image: missing or not a string")
        elif base_dir is not None and (problem := _image_problem(base_dir / image)):
            shown = str(base_dir / image)
            problems.append(f"{where}.image: {shown if shown.isprintable() else repr(shown)} {problem}")
        for key, is_finding in (("findings", True), ("discs", False)):
            entries = scan.get(key, [])
            if not isinstance(entries, list):
                problems.append(f"{where}.{key}: must be a list")
                continue
            for m, entry in enumerate(entries):
                problems += _entry_problems(entry, f"{where}.{key}[{m}]", classes, is_finding)
        for key in ("unlabelled", "normal_mild"):
            if key in scan:
                problems += _pairs_problems(scan[key], f"{where}.{key}", classes)
        problems += normal_mild_problems(_list(scan.get("normal_mild")), f"{where}.normal_mild",
                                         _list(scan.get("findings")), _list(scan.get("unlabelled")))
    return problems


def read_json(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "does not exist" if not path.exists() else "is not a file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"is not valid JSON ({exc})") from None


def load_dataset(path: str | Path, check_images: bool = True) -> dict:
    """Read and validate a dataset.json; any problem raises one InputError naming the file and the first problem."""
    path = Path(path)
    data = read_json(path)
    problems = validate(data, path.parent if check_images else None)
    if problems:
        more = f" (and {len(problems) - 1} more; run 'spinedet validate {path}')" if len(problems) > 1 else ""
        raise InputError(path, problems[0] + more)
    return data


def image_path(dataset_path: str | Path, scan: dict) -> Path:
    """The scan's image path, resolved relative to its dataset file."""
    return Path(dataset_path).parent / scan["image"]


def write_dataset(path: str | Path, data: dict, overwrite: bool = True) -> None:
    """Validate (without touching images) and write atomically."""
    problems = validate(data)
    if problems:
        raise ValueError(f"refusing to write an invalid dataset to {path}: {problems[0]}")
    write_json(path, data, overwrite)


def summary(data: dict) -> dict:
    """Counts of scans by centre, view, region and split, of findings by class and level, and of unlabelled pairs."""
    scans = data["scans"]
    findings = [f for s in scans for f in s.get("findings", [])]
    return {
        "scans": len(scans),
        "patients": len({s["patient"] for s in scans}),
        "by_center": dict(sorted(Counter(s["center"] for s in scans).items())),
        "by_view": dict(sorted(Counter(s["view"] for s in scans).items())),
        "by_region": dict(sorted(Counter(s["region"] for s in scans).items())),
        "by_split": dict(sorted(Counter(s.get("split", "-") for s in scans).items())),
        "findings_by_class": dict(sorted(Counter(f["class"] for f in findings).items())),
        "findings_by_level": dict(sorted(Counter(str(f.get("level")) for f in findings).items())),
        "discs": sum(len(s.get("discs", [])) for s in scans),
        "unlabelled_pairs": sum(len(s.get("unlabelled", [])) for s in scans),
        "graded_findings": sum("grade" in f for f in findings),
        "normal_mild_pairs": sum(len(s.get("normal_mild", [])) for s in scans),
    }
