"""A finding's key image for report.html: the slice through its centre, cropped around its box, as PNG bytes."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from spinedet.infer.overlay import CLASS_COLOURS, centre_slice
from spinedet.io.scan import Scan

MARGIN_MM = 25.0  # context shown around the box on each side
WIDTH_PX = 260


def _crop(centre_px: float, half_px: float, size: int) -> tuple[int, int]:
    low = int(np.clip(np.floor(centre_px - half_px), 0, size - 1))
    return low, int(np.clip(np.ceil(centre_px + half_px) + 1, low + 1, size))


def key_image_png(scan: Scan, finding: dict, window: tuple[float, float]) -> tuple[bytes, int]:
    """(PNG bytes, slice index): the finding's box on the canonical slice through its centre, at true mm aspect."""
    box = np.asarray(finding["box_voxel"], float)
    index = int(np.clip(np.floor(centre_slice(box) + 0.5), 0, scan.shape[0] - 1))
    row_mm, col_mm = (float(s) for s in scan.spacing_mm[1:])
    r0, r1 = _crop((box[1] + box[4]) / 2, (box[4] - box[1]) / 2 + MARGIN_MM / row_mm, scan.shape[1])
    c0, c1 = _crop((box[2] + box[5]) / 2, (box[5] - box[2]) / 2 + MARGIN_MM / col_mm, scan.shape[2])
    height_mm, width_mm = (r1 - r0) * row_mm, (c1 - c0) * col_mm
    fig = Figure(figsize=(WIDTH_PX / 100, WIDTH_PX / 100 * height_mm / width_mm), dpi=100, facecolor="black")
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.imshow(scan.array[index, r0:r1, c0:c1], cmap="gray", vmin=window[0], vmax=window[1], interpolation="nearest",
              extent=((c0 - 0.5) * col_mm, (c1 - 0.5) * col_mm, (r1 - 0.5) * row_mm, (r0 - 0.5) * row_mm))
    ax.add_patch(Rectangle((box[2] * col_mm, box[1] * row_mm), (box[5] - box[2]) * col_mm, (box[4] - box[1]) * row_mm,
                           fill=False, edgecolor=CLASS_COLOURS.get(finding["class"], "#ffffff"), linewidth=1.5))
    ax.set_axis_off()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue(), index
