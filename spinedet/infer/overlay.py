"""Overlay PNGs: a finding's box on the slice through its centre, and one overview per scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from spinedet.atomic import atomic_path
from spinedet.infer.findings import NOTICE
from spinedet.io.scan import Scan

CLASS_COLOURS = {
    "herniation": "#ff3b30",
    "bulge": "#ff9500",
    "degenerated_disc": "#ffcc00",
    "stenosis": "#d63af9",
    "disc": "#34c7f5",
}
WINDOW_PERCENTILES = (1.0, 99.0)


def intensity_window(array: np.ndarray) -> tuple[float, float]:
    """The (low, high) display window: the 1st and 99th intensity percentiles of the scan."""
    low, high = np.percentile(array, WINDOW_PERCENTILES)
    return float(low), float(max(high, low + 1e-6))


def centre_slice(box_voxel) -> float:
    """The continuous canonical slice index of a voxel-corner box's centre."""
    return (float(box_voxel[0]) + float(box_voxel[3])) / 2.0


def _slice_index(scan: Scan, position: float) -> int:
    return int(np.clip(np.floor(position + 0.5), 0, scan.shape[0] - 1))


def _label(det: dict) -> str:
    level = det.get("level") or "level ?"
    name = det.get("class", "disc")
    grade = f" {det['grade']}" if "grade" in det else ""  # a truth finding's grade has no probability
    grade += f" {det['grade_probability']:.2f}" if "grade_probability" in det else ""
    return f"{name} {level} {det['score']:.2f}{grade}" if name != "disc" else f"{level} {det['score']:.2f}"


def _draw_slice(scan: Scan, index: int, window, title: str, boxes: list[dict], path: Path) -> None:
    """Render canonical slice `index` with `boxes` (dicts with box_voxel, class, level, score) at true mm aspect."""
    row_mm, col_mm = (float(s) for s in scan.spacing_mm[1:])
    rows, cols = scan.shape[1:]
    height_mm, width_mm = rows * row_mm, cols * col_mm
    scale = 7.0 / max(height_mm, width_mm)
    fig = Figure(figsize=(max(width_mm * scale, 3.5), height_mm * scale + 0.9), dpi=110, facecolor="black")
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0.0, 0.55 / (height_mm * scale + 0.9), 1.0, height_mm * scale / (height_mm * scale + 0.9)])
    ax.imshow(
        scan.array[index], cmap="gray", vmin=window[0], vmax=window[1], interpolation="nearest",
        extent=(-0.5 * col_mm, (cols - 0.5) * col_mm, (rows - 0.5) * row_mm, -0.5 * row_mm),
    )
    for det in boxes:
        b = np.asarray(det["box_voxel"], float)
        crosses = b[0] <= index <= b[3]
        colour = CLASS_COLOURS.get(det.get("class", "disc"), "#ffffff")
        ax.add_patch(Rectangle(
            (b[2] * col_mm, b[1] * row_mm), (b[5] - b[2]) * col_mm, (b[4] - b[1]) * row_mm,
            fill=False, edgecolor=colour, linewidth=1.4, linestyle="-" if crosses else ":",
        ))
        ax.text(b[5] * col_mm + 1.0, b[1] * row_mm, _label(det), color=colour, fontsize=7, va="top",
                clip_on=True, bbox={"facecolor": "black", "alpha": 0.6, "pad": 1.0, "edgecolor": "none"})
    ax.set_axis_off()
    fig.text(0.01, 1.0 - 0.02, title, fontsize=8, va="top", color="white")
    fig.text(0.01, 0.01, NOTICE, fontsize=7, va="bottom", color="#ff8080")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Description": NOTICE})


def finding_png(scan: Scan, scan_id: str, finding: dict, window, path: Path) -> None:
    """The slice through a finding's box centre with its box, class, level and score."""
    index = _slice_index(scan, centre_slice(finding["box_voxel"]))
    title = f"{scan_id}  {_label(finding)}  ({scan.view} slice {index}/{scan.shape[0] - 1})"
    _draw_slice(scan, index, window, title, [finding], path)


def overview_png(scan: Scan, scan_id: str, findings: list[dict], discs: list[dict], window, path: Path) -> None:
    """One slice through the discs' median centre (the middle slice without discs), all boxes labelled.

    Boxes that do not cross the shown slice are drawn dotted.
    """
    centres = [centre_slice(d["box_voxel"]) for d in discs]
    index = _slice_index(scan, float(np.median(centres)) if centres else (scan.shape[0] - 1) / 2.0)
    title = f"{scan_id}: {len(discs)} discs, {len(findings)} findings  ({scan.view} slice {index}/{scan.shape[0] - 1})"
    _draw_slice(scan, index, window, title, [{**d, "class": "disc"} for d in discs] + findings, path)
