"""The disk cache of resampled scans ($SPINEDET_CACHE): keyed on the source's contents, written atomically."""

import multiprocessing
import os
import time

import numpy as np
import pytest
import SimpleITK as sitk

from spinedet.train.data import cache_entry, read_entry, resampled_scan, write_entry
from tests.dicom_fixtures import image_values, write_series

SPACING_MM = (4.0, 1.0, 1.0)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """A private, empty cache folder."""
    monkeypatch.setenv("SPINEDET_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def uncached(path, view, monkeypatch, tmp_path) -> np.ndarray:
    """The resampled array computed afresh, in a cache folder of its own."""
    monkeypatch.setenv("SPINEDET_CACHE", str(tmp_path / f"fresh-{time.monotonic_ns()}"))
    array = resampled_scan(path, view, "lumbar", SPACING_MM)[0]
    monkeypatch.setenv("SPINEDET_CACHE", str(tmp_path / "cache"))
    return array


def later_mtime(path, seconds: float = 2.0) -> None:
    """Move a file's mtime forward, as an edit made a moment later would (file systems stamp coarsely)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + int(seconds * 1e9)))


def test_an_in_place_edit_of_one_dicom_file_is_not_served_from_the_cache(tmp_path, cache, monkeypatch):
    folder = tmp_path / "series"
    facts = write_series(folder, image_values(4, 24, 16), shuffle=False)
    before = resampled_scan(folder, "sagittal", "lumbar", SPACING_MM)[0]
    assert len(list(cache.glob("*.npz"))) == 1
    edited = facts["files"][1]
    folder_mtime, size = folder.stat().st_mtime_ns, edited.stat().st_size
    pixels = (60000 - facts["values"][1]).astype("<u2").tobytes()
    with open(edited, "r+b") as f:  # the pixel data ends the file: overwrite it, same length
        f.seek(-len(pixels), os.SEEK_END)
        f.write(pixels)
    later_mtime(edited)
    assert folder.stat().st_mtime_ns == folder_mtime and edited.stat().st_size == size
    after = resampled_scan(folder, "sagittal", "lumbar", SPACING_MM)[0]
    assert not np.array_equal(after, before)
    assert np.array_equal(after, uncached(folder, "sagittal", monkeypatch, tmp_path))
    assert len(list(cache.glob("*.npz"))) == 2


def write_nifti(path, values: np.ndarray) -> None:
    image = sitk.GetImageFromArray(values)
    image.SetSpacing((1.0, 1.0, 4.0))
    sitk.WriteImage(image, str(path))


def test_another_view_or_a_rewritten_file_is_not_served_the_old_entry(tmp_path, cache, monkeypatch):
    path = tmp_path / "scan.nii"
    rng = np.random.default_rng(0)
    write_nifti(path, rng.random((6, 20, 14)).astype(np.float32))
    sagittal = resampled_scan(path, "sagittal", "lumbar", SPACING_MM)[0]
    axial = resampled_scan(path, "axial", "lumbar", SPACING_MM)[0]
    assert np.array_equal(axial, uncached(path, "axial", monkeypatch, tmp_path))
    assert sagittal.shape != axial.shape
    size = path.stat().st_size
    write_nifti(path, rng.random((6, 20, 14)).astype(np.float32))
    later_mtime(path)
    assert path.stat().st_size == size
    rewritten = resampled_scan(path, "sagittal", "lumbar", SPACING_MM)[0]
    assert not np.array_equal(rewritten, sagittal)
    assert np.array_equal(rewritten, uncached(path, "sagittal", monkeypatch, tmp_path))


def test_a_truncated_or_garbage_entry_is_rebuilt(tmp_path, cache, monkeypatch):
    path = tmp_path / "scan.nii"
    write_nifti(path, np.random.default_rng(1).random((6, 20, 14)).astype(np.float32))
    expected = uncached(path, "sagittal", monkeypatch, tmp_path)
    entry = cache_entry(path, "sagittal", "lumbar", SPACING_MM)
    resampled_scan(path, "sagittal", "lumbar", SPACING_MM)
    whole = entry.read_bytes()
    for broken in (whole[: len(whole) // 2], b"", b"not a cache entry"):
        entry.write_bytes(broken)
        assert read_entry(entry) is None
        assert np.array_equal(resampled_scan(path, "sagittal", "lumbar", SPACING_MM)[0], expected)
        assert np.array_equal(read_entry(entry)[0], expected)  # rewritten whole


ENTRY_SHAPE = (8, 256, 256)  # 2 MiB of float32: a write takes long enough to be caught halfway


def hammer(entry, value: float, seconds: float) -> tuple[int, int, list[str]]:
    """Write this process's own entry (every voxel `value`) and read back whatever is there, for `seconds`.

    Returns (writes, whole reads, problems): a read that fails or mixes two writers' data is a problem."""
    array = np.full(ENTRY_SHAPE, value, np.float32)
    writes = reads = 0
    problems = []
    end = time.monotonic() + seconds
    while time.monotonic() < end or writes < 20:
        write_entry(entry, array, np.full(3, value), np.eye(4) * value)
        writes += 1
        try:
            with np.load(entry, allow_pickle=False) as stored:  # strict: no fallback that would hide a partial file
                got, factor, affine = stored["array"], stored["factor"], stored["affine"]
        except Exception as exc:  # noqa: BLE001 - every failure is what this test counts
            problems.append(f"{type(exc).__name__}: {exc}")
            continue
        v = factor[0]
        if got.shape != ENTRY_SHAPE or not (np.all(got == v) and np.all(factor == v) and affine[0, 0] == v):
            problems.append(f"mixed or short entry (factor {factor.tolist()})")
        reads += 1
    return writes, reads, problems


def test_two_processes_sharing_one_entry_never_see_it_half_written(cache):
    entry = cache / "shared.npz"
    cache.mkdir()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.starmap(hammer, [(entry, 1.0, 1.5), (entry, 2.0, 1.5)])
    assert all(problems == [] for _, _, problems in results), [p[:3] for _, _, p in results]
    assert all(writes >= 20 and reads == writes for writes, reads, _ in results)
    assert read_entry(entry)[0][0, 0, 0] in (1.0, 2.0)
    assert sorted(p.name for p in cache.iterdir()) == ["shared.npz"]  # no temporary file left behind
