"""Hostile dataset.json: wrong types, missing fields, inverted or NaN boxes, unknown classes and levels, duplicate ids,
an image that is a folder of nothing or is missing, text that is not JSON. `spinedet validate` lists the problem
naming the file and the field (exit 2); `detect` on it gives one line naming the file and writes nothing."""

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostile import error_line, hostile_settings, record, run_cli
from spinedet.commands import detect
from spinedet.data.dataset import FORMAT, REGIONS, SPLITS, VIEWS
from spinedet.data.levels import ALL_LEVELS
from test_detect_cli import _RowPredictor, _write_scan

CLASSES = ["herniation", "bulge"]
JSON = st.recursive(st.none() | st.booleans() | st.integers(-10, 10) | st.floats(allow_nan=True) | st.text(max_size=6),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
                    max_leaves=4)


def _named_text(value) -> bool:
    return isinstance(value, str) and bool(value)


def _box(value) -> bool:
    return (isinstance(value, list) and len(value) == 6 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
        and all(value[d] < value[d + 3] for d in range(3)))


# field -> (where it lives, predicate of a valid value); a wrong-typed value is one the predicate rejects
FIELDS = {
    "format": ("top", lambda v: v == FORMAT),
    "classes": ("top", lambda v: isinstance(v, list) and bool(v) and all(isinstance(c, str) for c in v)
                and "disc" not in v),
    "scans": ("top", lambda v: isinstance(v, list)),
    "id": ("scan", _named_text), "patient": ("scan", _named_text), "center": ("scan", _named_text),
    "image": ("scan", _named_text), "region": ("scan", lambda v: v in REGIONS), "view": ("scan", lambda v: v in VIEWS),
    "split": ("scan", lambda v: v in SPLITS), "findings": ("scan", lambda v: isinstance(v, list)),
    "discs": ("scan", lambda v: isinstance(v, list)),
    "class": ("finding", lambda v: v in CLASSES), "level": ("finding", lambda v: v is None or v in ALL_LEVELS),
    "box_lps": ("finding", _box),
    "score": ("finding", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1),
    "grade": ("finding", lambda v: v in ("protrusion", "extrusion")),  # herniation's grades (the finding's class)
    "pfirrmann": ("finding", lambda v: v in ("I", "II", "III", "IV", "V")),
    "normal_mild": ("scan", lambda v: v == []),  # neither of CLASSES is on the stenosis scale
}
ONLY_ON = {"class": 0, "grade": 0, "pfirrmann": 1}  # entry 0 a finding, entry 1 a disc
REQUIRED = ["format", "classes", "scans", "id", "patient", "center", "image", "region", "view", "class", "box_lps"]


@pytest.fixture()
def fake_models(monkeypatch):
    monkeypatch.setattr(detect, "_load_predictors", lambda dirs: [_RowPredictor(*d.name.split("-")) for d in dirs])


def _dataset() -> dict:
    scans = [{"id": sid, "patient": f"p-{sid}", "center": "C1", "region": "lumbar", "view": "sagittal",
              "image": f"images/{sid}.nii.gz", "split": "test",
              "findings": [{"class": "herniation", "level": "L4/L5", "box_lps": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]}],
              "discs": [{"level": "L4/L5", "box_lps": [0.0, 1.0, 2.0, 3.0, 4.0, 5.5]}]} for sid in ("a", "b")]
    return {"format": FORMAT, "classes": list(CLASSES), "scans": scans}


def _target(data: dict, where: str, scan: int, entry: int) -> dict:
    if where == "top":
        return data
    if where == "scan":
        return data["scans"][scan]
    return data["scans"][scan][("findings", "discs")[entry]][0]


MUTATIONS = st.one_of(
    st.tuples(st.just("wrong type"), st.sampled_from(sorted(FIELDS)), JSON),
    st.tuples(st.just("missing"), st.sampled_from(REQUIRED), st.none()),
    st.tuples(st.just("inverted box"), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("non-finite box"), st.integers(0, 5), st.sampled_from([math.nan, math.inf, -math.inf])),
    st.tuples(st.just("unknown class"), st.none(), st.text(max_size=12).filter(lambda t: t not in CLASSES)),
    st.tuples(st.just("unknown level"), st.none(), st.text(max_size=8).filter(lambda t: t not in ALL_LEVELS)),
    st.tuples(st.just("duplicate id"), st.none(), st.none()),
    st.tuples(st.just("empty image folder"), st.booleans(), st.none()),
    st.tuples(st.just("missing image"), st.text(max_size=300), st.none()),
)


def _mutate(data: dict, folder: Path, mutation, scan: int, entry: int) -> str | None:
    """Apply one mutation; the word a problem line must name, or None when the mutation happened to be valid."""
    kind, key, value = mutation
    item = data["scans"][scan]
    box = item[("findings", "discs")[entry]][0]["box_lps"]
    if kind == "wrong type":
        where, valid = FIELDS[key]
        if valid(value) or ONLY_ON.get(key, entry) != entry:
            return None  # discs have no class or grade, findings no pfirrmann; a valid value is no mutation
        _target(data, where, scan, entry if where == "finding" else 0)[key] = value
        return key
    if kind == "missing":
        where = FIELDS[key][0]
        _target(data, where, scan, 0).pop(key)
        return key
    if kind == "inverted box":
        box[key], box[key + 3] = box[key + 3], box[key] if value else box[key + 3]
        return "box_lps"
    if kind == "non-finite box":
        box[key] = value
        return "box_lps"
    if kind in ("unknown class", "unknown level"):
        item["findings"][0][kind.split()[1]] = value
        return kind.split()[1]
    if kind == "duplicate id":
        data["scans"][1 - scan]["id"] = item["id"]
        return "id"
    if kind == "empty image folder":
        (folder / "nothing" / ("deeper" if key else "")).mkdir(parents=True, exist_ok=True)
        item["image"] = "nothing"
        return "image"
    try:
        if (folder / (key or "gone")).exists():
            return None  # a name that happens to exist ('.', '/', 'images') is no mutation
    except (OSError, ValueError):
        pass  # a name too long or with a NUL byte: a problem for validate to name
    item["image"] = key or "gone.nii.gz"
    return "image"


def test_hostile_dataset(fake_models):
    with tempfile.TemporaryDirectory(prefix="hostile-dataset-") as tmp:
        root = Path(tmp)
        for sid in ("a", "b"):
            (root / "base" / "images").mkdir(parents=True, exist_ok=True)
            _write_scan(root / "base" / "images" / f"{sid}.nii.gz")

        @hostile_settings("dataset")
        @given(mutations=st.lists(MUTATIONS, min_size=1, max_size=3), scan=st.integers(0, 1), entry=st.integers(0, 1))
        def case(mutations, scan, entry):
            folder = Path(tempfile.mkdtemp(dir=root))
            (folder / "images").symlink_to(root / "base" / "images")
            data = _dataset()
            named = []
            for mutation in mutations:
                try:
                    named.append(_mutate(data, folder, mutation, scan, entry))
                except (KeyError, TypeError, IndexError, AttributeError):
                    break  # an earlier mutation took away what this one edits
            named = [n for n in named if n]
            if not named:
                record("dataset", "valid after all (not checked)")
                return
            path = folder / "dataset.json"
            path.write_text(json.dumps(data))
            code, out, err = run_cli("validate", path)
            assert code == 2 and "Traceback" not in err, (code, err)
            lines = out.strip().splitlines()
            assert lines and all(line.startswith(f"{path}: ") for line in lines), out
            assert any(word in out for word in named), f"no problem line names {named}: {out}"
            target = folder / "out"
            code, _, err = run_cli("detect", path, "--model", folder / "sagittal-lumbar", "--out", target,
                                   "--no-overlays")
            error_line(code, err, "detect", folder)
            assert not target.exists()
            record("dataset", mutations[0][0])  # the first of 1-3 mutations

        case()


@pytest.mark.parametrize("text", ["", "{", '{"format": "spinedet-dataset/1", "scans": [', "\ud800", "[1, 2]", "null"])
def test_not_a_dataset(tmp_path, text):
    path = tmp_path / "dataset.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    code, out, err = run_cli("validate", path)
    assert code == 2 and "Traceback" not in err
    assert str(path) in (out + err).splitlines()[0]
    code, _, err = run_cli("detect", path, "--model", tmp_path / "sagittal-lumbar", "--out", tmp_path / "out")
    assert code == 2 and not (tmp_path / "out").exists() and "Traceback" not in err


def test_dataset_through_a_subprocess(tmp_path):
    data = _dataset()
    data["scans"][0]["findings"][0]["box_lps"] = [5.0, 1.0, 2.0, 3.0, 4.0, float("nan")]
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "evaluated"
    result = subprocess.run([sys.executable, "-m", "spinedet", "evaluate", str(path), str(path), "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and f"{path}: scan a.findings[0].box_lps" in result.stderr
    assert not out.exists()
