"""Hostile DICOM: random element deletions and changes, wrong value lengths, truncated files and pixel data (at the
byte level, so nothing is repaired on the way), and broken series (one or two slices, slices of different sizes or
spacing, stacks of another orientation under one series UID). Each loads, or gives exit 2 with one line naming the
file and the problem, and `detect` then writes nothing."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dicom_fixtures import SAGITTAL_IOP, image_values, tilted, write_series, write_slice
from hostile import error_line, hostile_settings, record, run_cli
from spinedet.commands import detect
from test_detect_cli import _RowPredictor

LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT"}


@pytest.fixture()
def fake_models(monkeypatch):
    monkeypatch.setattr(detect, "_load_predictors", lambda dirs: [_RowPredictor(*d.name.split("-")) for d in dirs])


def _elements(path: Path) -> list[tuple[int, int, int, bool]]:
    """(header start, value start, value length, long header) of each top-level element after the file meta."""
    ds = pydicom.dcmread(path)
    found = []
    for tag in ds.keys():
        raw = ds._dict[tag]
        long = raw.VR in LONG_VRS
        found.append((raw.value_tell - (12 if long else 8), raw.value_tell, raw.length, long))
    return found


def _apply(data: bytearray, elements, op) -> bytearray:
    kind, index, arg = op
    if kind == "truncate":
        return data[: 132 + arg % max(1, len(data) - 132)]  # anywhere after the preamble
    start, value, length, long = elements[index % len(elements)]
    end = value + (0 if length == 0xFFFFFFFF else length)
    size_at, size_len = (start + 8, 4) if long else (start + 6, 2)
    if kind == "delete":
        return data[:start] + data[end:]
    if kind == "change":
        new = bytes(arg)[: 0xFFFF if not long else None]
        data[size_at:size_at + size_len] = len(new).to_bytes(size_len, "little")
        return data[:value] + new + data[end:]
    data[size_at:size_at + size_len] = (arg % (1 << (8 * size_len))).to_bytes(size_len, "little")  # "length"
    return data


VALUES = st.one_of(st.binary(max_size=40), st.sampled_from([b"", b"nan", b"-inf", b"1e400", b"-0", b"0\\0", b"\\\\",
                                                            b"1\\2\\3\\4\\5\\6\\7", b"\x00" * 7, b"\xff" * 9]))
OPS = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 200), st.none()),
    st.tuples(st.just("change"), st.integers(0, 200), VALUES),
    st.tuples(st.just("length"), st.integers(0, 200), st.one_of(st.integers(0, 2**32 - 1),
                                                                st.sampled_from([0, 1, 3, 0xFFFF, 0xFFFFFFFF]))),
    st.tuples(st.just("truncate"), st.none(), st.integers(0, 2**20)),
)


def _series(folder: Path) -> list[Path]:
    return write_series(folder, image_values(4, 8, 10), shuffle=False)["files"]


def _detect_refused(case: Path, source: Path, line: str) -> None:
    """`detect` on a refused input is refused too, and leaves no --out behind."""
    out = case / "out"
    code, _, err = run_cli("detect", source, "--model", case / "sagittal-lumbar", "--out", out, "--no-overlays")
    error_line(code, err, "detect", case)
    assert not out.exists(), f"{out} written for a refused input ({line})"


def test_random_byte_damage(fake_models):
    base = Path(tempfile.mkdtemp(prefix="hostile-dicom-"))
    _series(base / "base")

    @hostile_settings("dicom bytes")
    @given(victims=st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True),
           ops=st.lists(OPS, min_size=1, max_size=3))
    def case(victims, ops):
        folder = Path(tempfile.mkdtemp(dir=base))
        shutil.copytree(base / "base", folder / "s")
        for victim in victims:
            path = sorted((folder / "s").iterdir())[victim]
            data = bytearray(path.read_bytes())
            for op in ops:
                elements = _elements_of(data, path)
                if not elements:
                    break
                data = _apply(data, elements, op)
            path.write_bytes(bytes(data))
        code, _, err = run_cli("inspect", folder / "s")
        if code == 0:
            record("dicom bytes", "loaded")
        else:
            line = error_line(code, err, "inspect", folder)
            _detect_refused(folder, folder / "s", line)
            record("dicom bytes", "exit 2")
        shutil.rmtree(folder)

    try:
        case()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _elements_of(data: bytearray, path: Path):
    """The elements of damaged bytes, or [] once they no longer parse (later operations then have nothing to hit)."""
    probe = path.with_suffix(".probe")
    probe.write_bytes(bytes(data))
    try:
        return _elements(probe)
    except Exception:  # noqa: BLE001 - the damage made it unparseable: stop damaging it further
        return []
    finally:
        probe.unlink()


SERIES_KINDS = ("one slice", "two slices", "rows differ", "columns differ", "spacing differs", "other orientation",
                "truncated pixel data")


@hostile_settings("dicom series")
@given(kind=st.sampled_from(SERIES_KINDS), which=st.integers(0, 4), amount=st.integers(1, 60))
def test_broken_series(kind, which, amount):
    with tempfile.TemporaryDirectory(prefix="hostile-series-") as tmp:
        case = Path(tmp)
        n = {"one slice": 1, "two slices": 2}.get(kind, 5)
        rows = 128 if kind == "truncated pixel data" else 16  # 128 x 20 x 2 bytes: over the 4 KB that pydicom defers
        facts = write_series(case / "s", image_values(n, rows, 20), shuffle=False)
        args = []
        if kind in ("rows differ", "columns differ", "spacing differs"):
            ds = pydicom.dcmread(facts["files"][which % n])
            shape = (16 + amount, 20) if kind == "rows differ" else (16, 20 + amount) if kind == "columns differ" else (16, 20)
            spacing = (0.5 + amount / 100, 0.5) if kind == "spacing differs" else (0.5, 0.5)
            iop = (np.array(ds.ImageOrientationPatient[:3], float), np.array(ds.ImageOrientationPatient[3:], float))
            write_slice(facts["files"][which % n], ds, image_values(1, *shape)[0], ds.ImagePositionPatient, iop, spacing,
                        instance=int(ds.InstanceNumber))
        if kind == "truncated pixel data":
            victim = facts["files"][which % n]
            victim.write_bytes(victim.read_bytes()[:-amount * 40])
        if kind == "other orientation":
            write_series(case / "s", image_values(3, 16, 20), iop=tilted(SAGITTAL_IOP, amount, "z"), prefix="b",
                         series_uid=facts["series_uid"], origin=(30.0, 0.0, 0.0))
            args = ["--series", facts["series_uid"]]
        line = error_line(*run_cli("inspect", *args, case / "s")[::2], "inspect", case)
        record("dicom series", kind)
        expected = {"one slice": "a single image (2D)", "two slices": "only 2 slices", "rows differ": "Rows",
                    "columns differ": "Columns", "spacing differs": "PixelSpacing",
                    "other orientation": "stacks of different orientation", "truncated pixel data": "truncated"}[kind]
        assert expected in line


def test_byte_damage_through_a_subprocess(tmp_path):
    files = _series(tmp_path / "s")
    data = bytearray(files[2].read_bytes())
    elements = _elements(files[2])
    files[2].write_bytes(bytes(_apply(data, elements, ("length", len(elements) - 1, 0x7FFF0))))  # the pixel data
    result = subprocess.run([sys.executable, "-m", "spinedet", "inspect", str(tmp_path / "s")], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and str(files[2]) in result.stderr, result.stderr
