"""Group DICOM image headers into stacks (one series, one orientation, one echo) and check their slice geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spinedet.io.dicom_files import has_pixel_data, number
from spinedet.io.dicom_geometry import plane_axes
from spinedet.io.geometry import view_of_normal

ORIENTATION_TOLERANCE_DEG = 0.5
DUPLICATE_TOLERANCE_MM = 0.01
MIN_SLICES = 3  # two slices are no volume, and one step cannot show a missing slice
BLOCK_GAP_FACTOR = 3.0  # an axial gap of this many usual steps separates per-disc blocks


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0))))


def _same_orientation(ds_a, ds_b) -> bool:
    row_a, col_a, _ = plane_axes(ds_a)
    row_b, col_b, _ = plane_axes(ds_b)
    return max(_angle_deg(row_a, row_b), _angle_deg(col_a, col_b)) <= ORIENTATION_TOLERANCE_DEG


def group_stacks(headers: list[tuple[Path, object]]) -> dict[str, list[list[tuple[Path, object]]]]:
    """Headers grouped by SeriesInstanceUID, then split into stacks of one orientation and one echo number."""
    series: dict[str, list[list[tuple[Path, object]]]] = {}
    for path, ds in headers:
        stacks = series.setdefault(str(ds.get("SeriesInstanceUID", "") or "(no SeriesInstanceUID)"), [])
        echo = str(ds.get("EchoNumbers", "") or "")
        for stack in stacks:
            first = stack[0][1]
            if str(first.get("EchoNumbers", "") or "") == echo and _same_orientation(first, ds):
                stack.append((path, ds))
                break
        else:
            stacks.append([(path, ds)])
    for uid, stacks in series.items():
        stacks[:] = [block for stack in stacks for block in split_axial_blocks(stack)]
        stacks.sort(key=lambda s: tuple(-np.mean([_position(ds) for _, ds in s], axis=0)[[2, 0, 1]]))
    return series


def split_axial_blocks(stack: list[tuple[Path, object]]) -> list[list[tuple[Path, object]]]:
    """An axial stack split at gaps of at least BLOCK_GAP_FACTOR usual steps: per-disc blocks of one orientation.

    Sagittal and coronal stacks are never split, so a missing slice there stays an error.
    """
    normal = plane_axes(stack[0][1])[2]
    if len(stack) < 3 or view_of_normal(normal)[0] != "axial":
        return [stack]
    offsets = np.array([_position(ds) @ normal for _, ds in stack])
    order = np.argsort(offsets, kind="stable")
    steps = np.diff(offsets[order])
    cuts = np.flatnonzero(steps >= BLOCK_GAP_FACTOR * max(float(np.median(steps)), DUPLICATE_TOLERANCE_MM)) + 1
    return [[stack[i] for i in block] for block in np.split(order, cuts)]


def _position(ds) -> np.ndarray:
    return np.array([float(v) for v in ds.ImagePositionPatient], float)


def _uniform_problem(stack: list[tuple[Path, object]], names: list[str]) -> str | None:
    first_name, first = names[0], stack[0][1]
    for path, (_, ds) in zip(names, stack):
        if not has_pixel_data(ds):
            return f"{path}: has no pixel data"
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        if frames > 1:
            return f"{path}: multi-frame (enhanced) DICOM with {frames} frames is not supported; export classic images"
        if int(ds.get("SamplesPerPixel", 1) or 1) != 1:
            return f"{path}: colour or multi-sample pixels; a single-channel MR image is expected"
        for keyword in ("Rows", "Columns"):
            if ds.get(keyword) != first.get(keyword):
                return f"{path}: {keyword} {ds.get(keyword)} differs from {first.get(keyword)} in {first_name}"
        if not np.allclose([float(v) for v in ds.PixelSpacing], [float(v) for v in first.PixelSpacing], atol=1e-3):
            spacing, first_spacing = ([float(v) for v in d.PixelSpacing] for d in (ds, first))
            return f"{path}: PixelSpacing {spacing} differs from {first_spacing} in {first_name}"
    return None


def _spacing_problem(offsets_mm: np.ndarray, paths: list[str]) -> str | None:
    steps = np.diff(offsets_mm)
    duplicate = np.flatnonzero(steps < DUPLICATE_TOLERANCE_MM)
    if duplicate.size:
        i = int(duplicate[0])
        return (f"duplicated slice position {offsets_mm[i] - offsets_mm[0]:.3f} mm from the first slice in {paths[i]} and "
                f"{paths[i + 1]} ({duplicate.size} duplicate(s): repeated files, or several echoes or time points)")
    usual = float(np.median(steps))
    gaps = np.flatnonzero(steps > 1.5 * usual)
    if gaps.size:
        i = int(gaps[0])
        return (f"missing slice(s): a gap of {steps[i]:.3f} mm between {paths[i]} and {paths[i + 1]} "
                f"where the usual step is {usual:.3f} mm")
    tolerance = max(DUPLICATE_TOLERANCE_MM, 0.02 * usual)
    if np.abs(steps - usual).max() > tolerance:
        return f"uneven slice spacing: steps from {steps.min():.3f} to {steps.max():.3f} mm (tolerance {tolerance:.3f} mm)"
    return None


def stack_geometry(
    stack: list[tuple[Path, object]], root: Path
) -> tuple[list[tuple[Path, object]], np.ndarray, str | None]:
    """The stack sorted along its slice normal, its (slice, row, column) -> LPS affine, and its problem if any.

    Slices are ordered by the position of ImagePositionPatient along the normal of ImageOrientationPatient,
    never by file name or InstanceNumber. The affine's slice column is the mean step along that normal.
    Problems name files relative to `root`.
    """
    along_row, along_column, normal = plane_axes(stack[0][1])
    offsets = np.array([_position(ds) @ normal for _, ds in stack])
    order = np.argsort(offsets, kind="stable")
    stack = [stack[i] for i in order]
    offsets = offsets[order]
    row_spacing, column_spacing = (float(v) for v in stack[0][1].PixelSpacing)
    affine = np.eye(4)
    affine[:3, 1] = along_column * row_spacing
    affine[:3, 2] = along_row * column_spacing
    affine[:3, 3] = _position(stack[0][1])
    paths = [p.relative_to(root).as_posix() for p, _ in stack]
    problem = _uniform_problem(stack, paths)
    if len(stack) == 1:
        header = stack[0][1]
        affine[:3, 0] = normal * (number(header, "SpacingBetweenSlices") or number(header, "SliceThickness") or 1.0)
        return stack, affine, problem or f"{paths[0]}: a single image (2D); a 3D series of at least 2 slices is expected"
    affine[:3, 0] = normal * (offsets[-1] - offsets[0]) / (len(stack) - 1)
    if len(stack) < MIN_SLICES:
        problem = problem or (f"{paths[0]}, {paths[1]}: only {len(stack)} slices; a 3D series needs at least "
                              f"{MIN_SLICES}, so that a missing slice shows as a gap in the spacing")
    problem = problem or _spacing_problem(offsets, paths)
    if problem is None:
        positions = np.array([_position(ds) for _, ds in stack])
        drift = positions - positions[0] - np.outer(offsets - offsets[0], normal)
        worst = int(np.argmax(np.linalg.norm(drift, axis=1)))
        if np.linalg.norm(drift[worst]) > 0.5 * min(row_spacing, column_spacing):
            problem = (f"{paths[worst]}: shifted {np.linalg.norm(drift[worst]):.2f} mm in-plane from the stack's "
                       "normal (sheared or gantry-tilted stack is not supported)")
    return stack, affine, problem
