"""Overlay PNGs: written, sized by the scan's mm extent, and showing the box on the right slice."""

import numpy as np
from matplotlib.image import imread

from spinedet.infer.overlay import centre_slice, finding_png, intensity_window, overview_png
from spinedet.io.scan import Scan


def _scan():
    # Canonical sagittal: slices +x (R->L), rows -z (S->I), columns +y (A->P); 3 x 0.5 x 0.5 mm.
    affine = np.eye(4)
    affine[:3, :3] = np.array([[3.0, 0, 0], [0, 0, 0.5], [0, -0.5, 0]])
    array = np.zeros((9, 80, 60), np.float32)
    array[4, 20:30, 10:20] = 1000.0
    return Scan(array=array, affine=affine, view="sagittal", region="lumbar")


def test_window_and_centre_slice():
    a = np.arange(101, dtype=float)
    assert intensity_window(a) == (1.0, 99.0)
    assert centre_slice([3.5, 0, 0, 4.5, 1, 1]) == 4.0


def test_finding_and_overview_png(tmp_path):
    scan = _scan()
    finding = {"class": "herniation", "level": "L4/L5", "score": 0.87, "box_voxel": [3.5, 19.5, 9.5, 4.5, 29.5, 19.5]}
    disc = {"level": "L4/L5", "score": 0.9, "box_voxel": [2.5, 40.5, 5.5, 6.5, 45.5, 30.5]}
    window = intensity_window(scan.array)
    finding_png(scan, "s1", finding, window, tmp_path / "f.png")
    overview_png(scan, "s1", [finding], [disc], window, tmp_path / "o.png")
    for name in ("f.png", "o.png"):
        image = imread(tmp_path / name)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    # The bright square on slice 4 appears (white pixels) in the finding's slice.
    rgb = imread(tmp_path / "f.png")[..., :3]
    assert (rgb.min(axis=2) > 0.95).sum() > 2000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "o.png"]
