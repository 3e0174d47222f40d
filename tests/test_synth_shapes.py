"""Analytic solids: their tight boxes contain every inside point and are tight."""

import numpy as np

from spinedet.synth.shapes import Frame, Solid


def _tilted_frame(deg: float) -> Frame:
    t = np.radians(deg)
    return Frame(np.array([3.0, -20.0, 40.0]), np.array([0, np.cos(t), np.sin(t)]), np.array([1.0, 0, 0]),
                 np.array([0, -np.sin(t), np.cos(t)]))


def _dense_inside(solid: Solid, half: float = 40.0, step: float = 0.25) -> np.ndarray:
    g = np.arange(-half, half, step)
    o = solid.frame.origin
    x, y, z = np.meshgrid(o[0] + g, o[1] + g, o[2] + g, indexing="ij", sparse=True)
    m = solid.inside(x, y, z)
    idx = np.argwhere(m)
    return o - half + idx * step


def test_wedged_disc_prism_box_is_exact():
    f = _tilted_frame(20.0)
    w_up = np.array([0, -np.sin(np.radians(26)), np.cos(np.radians(26))])
    w_lo = np.array([0, -np.sin(np.radians(14)), np.cos(np.radians(14))])
    top, bottom = f.origin + 5 * f.w, f.origin - 5 * f.w
    cuts = [(w_up, float(w_up @ top)), (-w_lo, float(-w_lo @ bottom))]
    disc = Solid(f, (17.0, 24.0, 20.0), "prism", 2.2, cuts)
    box = disc.tight_box_lps()
    pts = _dense_inside(disc)
    assert np.all(pts >= box[:3]) and np.all(pts <= box[3:])
    assert np.all(np.abs(pts.min(axis=0) - box[:3]) < 0.4) and np.all(np.abs(pts.max(axis=0) - box[3:]) < 0.4)


def test_cut_ellipsoid_box_contains_and_is_tight():
    f = _tilted_frame(-10.0)
    cut = (-f.u, float(-(f.u @ f.origin) + 2.0))  # keep u >= -2
    solid = Solid(f, (5.0, 7.0, 9.0), cuts=[cut])
    box = solid.tight_box_lps(32)
    pts = _dense_inside(solid, 15.0, 0.2)
    assert np.all(pts >= box[:3]) and np.all(pts <= box[3:])
    assert np.all(np.abs(pts.min(axis=0) - box[:3]) < 1.0) and np.all(np.abs(pts.max(axis=0) - box[3:]) < 1.0)
