"""Fields of view changed on purpose: a scan cut along the spine, or rows copied to its edge, with every voxel kept
in its world place (for robustness tests and benchmarks of the level finder)."""

from __future__ import annotations

import numpy as np

from spinedet.io.scan import Scan


def superior_axis(scan: Scan) -> int:
    """The canonical array axis that runs most nearly head to foot."""
    return int(np.argmax(np.abs(scan.affine[2, :3])))


def index_of_z(scan: Scan, z_mm: float) -> int:
    """The index along the superior axis whose voxel centre lies nearest world z (LPS, superior +)."""
    axis = superior_axis(scan)
    return int(round((z_mm - scan.affine[2, 3]) / scan.affine[2, axis]))


def z_range(scan: Scan) -> tuple[float, float]:
    """(lowest, highest) world z of the scan's voxel centres."""
    corners = [scan.affine @ np.r_[c, 1] for c in (np.zeros(3), np.array(scan.shape) - 1)]
    return min(c[2] for c in corners), max(c[2] for c in corners)


def cut_along_spine(scan: Scan, start: int, stop: int) -> Scan:
    """The scan with only indices [start, stop) of its superior axis; the affine keeps every voxel's place."""
    axis = superior_axis(scan)
    index = [slice(None)] * 3
    index[axis] = slice(start, stop)
    shift = np.eye(4)
    shift[axis, 3] = start
    return Scan(scan.array[tuple(index)].copy(), scan.affine @ shift, scan.view, scan.region)


def copy_rows_to_edge(scan: Scan, first: int, last: int) -> Scan:
    """The scan with its rows [first, last] of the superior axis copied over the same number at the far end."""
    axis = superior_axis(scan)
    height = last - first + 1
    source, target = [slice(None)] * 3, [slice(None)] * 3
    source[axis] = slice(first, last + 1)
    target[axis] = slice(scan.shape[axis] - height, scan.shape[axis])
    array = scan.array.copy()
    array[tuple(target)] = scan.array[tuple(source)]
    return Scan(array, scan.affine, scan.view, scan.region)
