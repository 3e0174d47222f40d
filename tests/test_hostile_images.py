"""Hostile NIfTI, MHA and NRRD headers: zero, negative or NaN spacing, NaN or singular affines, qform and sform
disagreeing, 2D, 4D, bad dimension counts and data types, truncated voxels, and 8-GiB size claims. The header is
patched as stored (SimpleITK and nibabel would repair some values quietly); a header that must be refused gives exit
2 with one line naming the file and the problem, `detect` writes nothing, and the claims fail before any allocation."""

import gzip
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from hypothesis import given
from hypothesis import strategies as st

from hostile import error_line, hostile_settings, record, refused, run_cli
from spinedet.commands import detect
from test_detect_cli import _RowPredictor

SHAPE = (10, 12, 14)  # x, y, z as stored
NIFTI_FIELDS = {"dim": (40, "<8h"), "datatype": (70, "<h"), "pixdim": (76, "<8f"), "vox_offset": (108, "<f"),
                "qform_code": (252, "<h"), "sform_code": (254, "<h"), "quatern": (256, "<6f"), "srow": (280, "<12f")}
BAD = [0.0, -1.0, -0.5, float("nan"), float("inf")]


@pytest.fixture()
def fake_models(monkeypatch):
    monkeypatch.setattr(detect, "_load_predictors", lambda dirs: [_RowPredictor(*d.name.split("-")) for d in dirs])


def _nifti(fields: dict, voxels: bytes | None = None) -> bytes:
    """A NIfTI-1 file of SHAPE float32 voxels with the given raw header fields (identity geometry otherwise)."""
    header = bytearray(352)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("4s", header, 344, b"n+1\0")
    base = {"dim": (3, *SHAPE, 1, 1, 1, 1), "datatype": 16, "pixdim": (1.0,) * 8, "vox_offset": 352.0, "qform_code": 1,
            "sform_code": 1, "quatern": (0.0,) * 6, "srow": (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0)}
    struct.pack_into("<2h", header, 70, 16, 32)  # datatype float32, bitpix 32
    for name, value in {**base, **fields}.items():
        offset, fmt = NIFTI_FIELDS[name]
        struct.pack_into(fmt, header, offset, *(value if isinstance(value, tuple) else (value,)))
    if voxels is None:
        voxels = np.random.default_rng(0).random(int(np.prod(SHAPE)), dtype=np.float32).tobytes()
    return bytes(header) + voxels


def _check(case: Path, path: Path, must_refuse: bool, family: str) -> None:
    code, out, err = run_cli("inspect", "--json", path)
    if code == 0:
        assert not must_refuse, f"{path.name} loaded but must be refused: {out}"
        record(family, "loaded")
        return
    line = error_line(code, err, "inspect", case)
    target = case / "out"
    code, _, err = run_cli("detect", path, "--model", case / "sagittal-lumbar", "--out", target, "--no-overlays")
    error_line(code, err, "detect", case)
    assert not target.exists(), f"{target} written for a refused input ({line})"
    record(family, "exit 2")


SPACING = st.one_of(st.sampled_from([1.0, 0.5, 2.5]), st.sampled_from(BAD))
ROTATED_SROW = (0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0)  # x and y swapped: disagrees with the identity qform
SHIFTED_SROW = (1, 0, 0, 6.0, 0, 1, 0, 0, 0, 0, 1, 0)


@hostile_settings("nifti")
@given(data=st.data())
def test_hostile_nifti(fake_models, data):
    pixdim = tuple(data.draw(SPACING) for _ in range(3))
    qcode, scode = data.draw(st.sampled_from([0, 1, 2])), data.draw(st.sampled_from([0, 1, 2]))
    quatern = data.draw(st.sampled_from([(0.0, 0.0, 0.0), (float("nan"), 0.0, 0.0), (5.0, 5.0, 5.0), (0.6, 0.0, 0.0)]))
    srow_kind = data.draw(st.sampled_from(["agrees", "rotated", "shifted", "nan", "zero column", "singular", "random"]))
    srow = {"agrees": (pixdim[0], 0, 0, 0, 0, pixdim[1], 0, 0, 0, 0, pixdim[2], 0), "rotated": ROTATED_SROW,
            "shifted": SHIFTED_SROW, "nan": (float("nan"),) + (0.0,) * 11,
            "zero column": (0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0), "singular": (1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0),
            "random": tuple(data.draw(st.floats(-3, 3)) for _ in range(12))}[srow_kind]
    dim_kind = data.draw(st.sampled_from(["3D", "3D", "2D", "4D", "one volume", "zero size", "dim0", "datatype"]))
    fields = {"pixdim": (1.0, *pixdim, 1.0, 1.0, 1.0, 1.0), "qform_code": qcode, "sform_code": scode,
              "quatern": (*quatern, 0.0, 0.0, 0.0), "srow": srow}
    fields.update({"2D": {"dim": (2, 10, 12, 1, 1, 1, 1, 1)}, "4D": {"dim": (4, 10, 12, 7, 2, 1, 1, 1)},
                   "one volume": {"dim": (4, *SHAPE, 1, 1, 1, 1)}, "zero size": {"dim": (3, 10, 0, 14, 1, 1, 1, 1)},
                   "dim0": {"dim": (data.draw(st.sampled_from([0, 8, -3])), *SHAPE, 1, 1, 1, 1)},
                   "datatype": {"datatype": data.draw(st.sampled_from([0, 3, 999]))}}.get(dim_kind, {}))
    cut = data.draw(st.sampled_from([0, 0, 0, 4, 1000, 6000]))
    raw = _nifti(fields)
    raw = raw[: len(raw) - cut]
    spatial_bad = any(not (np.isfinite(p) and p > 0) for p in pixdim)
    geometry_bad = ((qcode > 0 and quatern != (0.0, 0.0, 0.0) and quatern != (0.6, 0.0, 0.0))
                    or (scode > 0 and srow_kind in ("nan", "zero column", "singular"))
                    or (qcode > 0 and scode > 0 and quatern == (0.0, 0.0, 0.0) and srow_kind in ("rotated", "shifted")))
    must_refuse = (spatial_bad and dim_kind != "dim0") or geometry_bad or cut > 0 or dim_kind in (
        "2D", "4D", "zero size", "dim0", "datatype")
    with tempfile.TemporaryDirectory(prefix="hostile-nifti-") as tmp:
        name = data.draw(st.sampled_from(["scan.nii", "scan.nii.gz"]))
        path = Path(tmp) / name
        path.write_bytes(gzip.compress(raw, compresslevel=1) if name.endswith(".gz") else raw)
        _check(Path(tmp), path, must_refuse, "nifti")


def _itk_file(path: Path, header_edits: dict, cut: int) -> None:
    """An MHA or NRRD file of SHAPE written by SimpleITK, header lines replaced by key, voxels cut short by `cut`."""
    image = sitk.GetImageFromArray(np.random.default_rng(0).random(SHAPE[::-1]).astype(np.float32))
    sitk.WriteImage(image, str(path), useCompression=False)
    raw = path.read_bytes()
    split = raw.index(b"ElementDataFile = LOCAL\n") + 24 if path.suffix == ".mha" else raw.index(b"\n\n") + 2
    lines = raw[:split].decode().splitlines()
    separator = " = " if path.suffix == ".mha" else ": "
    for n, line in enumerate(lines):
        key = line.split(separator)[0]
        if key in header_edits:
            lines[n] = f"{key}{separator}{header_edits[key]}"
    body = raw[split:]
    path.write_bytes(("\n".join(lines) + "\n" + ("" if path.suffix == ".mha" else "\n")).encode()
                     + body[: len(body) - cut])


@hostile_settings("mha nrrd")
@given(data=st.data())
def test_hostile_mha_and_nrrd(fake_models, data):
    suffix = data.draw(st.sampled_from([".mha", ".nrrd"]))
    spacing = [data.draw(SPACING) for _ in range(3)]
    direction = data.draw(st.sampled_from(["identity", "identity", "singular", "nan", "zero"]))
    size = data.draw(st.sampled_from(["normal", "normal", "one slice", "zero"]))
    cut = data.draw(st.sampled_from([0, 0, 4, 3000]))
    if suffix == ".mha":
        matrix = {"identity": "1 0 0 0 1 0 0 0 1", "singular": "1 1 0 1 1 0 0 0 1", "nan": "nan 0 0 0 1 0 0 0 1",
                  "zero": "0 0 0 0 1 0 0 0 1"}[direction]
        edits = {"ElementSpacing": " ".join(map(str, spacing)), "TransformMatrix": matrix,
                 "DimSize": {"normal": "10 12 14", "one slice": "10 12 1", "zero": "10 0 14"}[size]}
    else:
        vectors = {"identity": np.eye(3), "singular": np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1.0]]),
                   "nan": np.diag([np.nan, 1, 1]), "zero": np.diag([0.0, 1, 1])}[direction] * np.array(spacing)[:, None]
        edits = {"space directions": " ".join(f"({','.join(f'{v:g}' for v in row)})" for row in vectors),
                 "sizes": {"normal": "10 12 14", "one slice": "10 12 1", "zero": "10 0 14"}[size]}
    bad_spacing = any(not (np.isfinite(s) and s > 0) for s in spacing)
    if suffix == ".nrrd":
        bad_spacing = any(not np.isfinite(s) or s == 0 for s in spacing)  # NRRD stores directions: a sign flips an axis
    must_refuse = bad_spacing or direction != "identity" or size != "normal" or cut > 0
    with tempfile.TemporaryDirectory(prefix="hostile-itk-") as tmp:
        path = Path(tmp) / f"scan{suffix}"
        _itk_file(path, edits, cut)
        _check(Path(tmp), path, must_refuse, "mha nrrd")


CLAIM = (2048, 2048, 512)  # float32: 8 GiB


def _claims(folder: Path) -> list[Path]:
    """One file per format whose header claims an 8-GiB float32 volume over a few bytes of data."""
    paths = [folder / "claim.nii", folder / "claim.nii.gz", folder / "claim.mha", folder / "claim.nrrd"]
    raw = _nifti({"dim": (3, *CLAIM, 1, 1, 1, 1)}, voxels=b"\0" * 64)
    paths[0].write_bytes(raw)
    paths[1].write_bytes(gzip.compress(raw))
    _itk_file(paths[2], {"DimSize": " ".join(map(str, CLAIM))}, cut=0)
    _itk_file(paths[3], {"sizes": " ".join(map(str, CLAIM))}, cut=0)
    return paths


def test_size_claims_fail_fast_in_process(tmp_path):
    for path in _claims(tmp_path):
        start = time.process_time()  # CPU time: the machine is shared
        line = refused("inspect", tmp_path, path)
        assert "header claims 2048 x 2048 x 512 = 2147483648 voxels (8.0 GiB" in line and str(path) in line
        assert time.process_time() - start < 2.0


def test_size_claim_through_a_subprocess_allocates_nothing(tmp_path):
    """In a child process: one line, exit 2, and a peak memory far below the 8 GiB claimed."""
    path = _claims(tmp_path)[0]
    probe = ("import resource, subprocess, sys; "
             "r = subprocess.run([sys.executable, '-m', 'spinedet', 'inspect', sys.argv[1]], capture_output=True, text=True); "
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.stderr.write(r.stderr)")
    result = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=300)
    code, peak_kib = map(int, result.stdout.split())
    assert code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr and str(path) in result.stderr
    assert peak_kib < 1024 * 1024, f"peak RSS {peak_kib} KiB"  # python, numpy and SimpleITK take ~150 MiB
