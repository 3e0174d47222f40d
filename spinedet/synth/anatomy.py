"""A patient's spine in world space: vertebral bodies and discs placed along an individual lordotic curve.

Adult dimensions (mm), per vertebra from cranial to caudal. Lumbar: Panjabi et al., Spine 1992;17:299
(body heights, depths, widths, canal sizes); disc heights from Frobin et al., Clin Biomech 1997;12 Suppl 1.
Cervical: Panjabi et al., Spine 1991;16:861; Gilad & Nissan, Spine 1986;11:154 (canal); disc heights
from Frobin et al., Eur Spine J 2002;11:447. Lordosis: L1-L5 about 45 deg (SD 9) plus 6 deg at L5/S1, C2-C7 about 20 deg (SD 10).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinedet.synth.shapes import Frame

# name, body height, depth (AP), width (LR), canal AP, canal width; then disc heights between consecutive ones
LUMBAR_VERTEBRAE = (
    ("T10", 22, 28, 36, 15, 18), ("T11", 23, 29, 38, 16, 19), ("T12", 24, 30, 40, 17, 21),
    ("L1", 25, 31, 42, 17, 22), ("L2", 26, 32, 44, 16, 22), ("L3", 27, 33, 46, 15, 23),
    ("L4", 27, 34, 48, 15, 24), ("L5", 26, 34, 50, 16, 25), ("S1", 28, 34, 48, 14, 26),
    ("S2", 22, 26, 38, 12, 22), ("S3", 18, 20, 30, 10, 18), ("S4", 14, 16, 22, 8, 14),
)
LUMBAR_DISC_MM = (6.0, 6.5, 7.0, 8.5, 9.5, 10.5, 11.5, 10.5, 2.0, 1.5, 1.5)  # S1/S2 on: fused remnants
CERVICAL_VERTEBRAE = (
    ("C2", 22, 16, 18, 17, 25), ("C3", 14, 15.5, 18, 15, 24), ("C4", 14, 16, 19, 14.5, 24),
    ("C5", 14, 16.5, 20, 14.5, 25), ("C6", 14, 17, 22, 14.5, 25), ("C7", 15, 17, 24, 14.5, 24),
    ("T1", 17, 19, 27, 15, 22), ("T2", 18, 21, 28, 14, 18), ("T3", 19, 23, 29, 14, 17),
)
CERVICAL_DISC_MM = (5.0, 5.5, 5.5, 5.5, 5.5, 5.0, 4.5, 4.5)
# share of the total lordosis taken at each disc (cranial to caudal)
LUMBAR_LORDOSIS_SHARE = (0.0, 0.0, 0.02, 0.06, 0.10, 0.16, 0.26, 0.40, 0.0, 0.0, 0.0)
CERVICAL_LORDOSIS_SHARE = (0.12, 0.2, 0.22, 0.22, 0.16, 0.08, 0.0, 0.0)


@dataclass
class Vertebra:
    name: str
    frame: Frame
    height_mm: float
    depth_mm: float
    width_mm: float
    canal_ap_mm: float
    canal_width_mm: float


@dataclass
class Disc:
    level: str
    upper: int  # index of the vertebra above
    height_mm: float  # at the disc centre
    depth_mm: float
    width_mm: float
    frame: Frame  # centred between the endplates, w along the mean of the two body axes
    cuts: list  # half-spaces bounding the disc by the adjacent endplates


@dataclass
class Spine:
    region: str
    vertebrae: list[Vertebra]
    discs: list[Disc]
    axis_z_mm: np.ndarray  # dense body-axis polyline, increasing z
    axis_y_mm: np.ndarray
    axis_tilt_rad: np.ndarray


def sample_dimensions(rng: np.random.Generator, region: str) -> dict:
    """Individual sizes and curvature: a body-size factor, per-level jitter and the lordosis."""
    table = LUMBAR_VERTEBRAE if region == "lumbar" else CERVICAL_VERTEBRAE
    discs = LUMBAR_DISC_MM if region == "lumbar" else CERVICAL_DISC_MM
    size = rng.normal(1.0, 0.06)
    rows = []
    for name, h, d, w, cap, cw in table:
        j = rng.normal(1.0, 0.03, size=5)
        rows.append((name, h * size * j[0], d * size * j[1], w * size * j[2], cap * j[3] * rng.normal(1, 0.05), cw * j[4]))
    lordosis = rng.normal(45.0, 9.0) if region == "lumbar" else rng.normal(20.0, 10.0)
    return {
        "vertebrae": rows,
        "disc_mm": [h * size * rng.normal(1.0, 0.08) for h in discs],
        "lordosis_deg": float(lordosis),
        "top_tilt_deg": float(rng.normal(-10.0 if region == "lumbar" else -12.0, 4.0)),
        "size": float(size),
    }


def _axes(tilt_rad: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(posterior u, lateral v, superior w) of a body tilted in the sagittal plane (positive: top anterior)."""
    s, c = np.sin(tilt_rad), np.cos(tilt_rad)
    return np.array([0.0, c, s]), np.array([1.0, 0.0, 0.0]), np.array([0.0, -s, c])


def build_spine(dims: dict, region: str, top_center_lps: np.ndarray) -> Spine:
    """Walk down from the top vertebra, bending by each disc's share of the lordosis."""
    share = LUMBAR_LORDOSIS_SHARE if region == "lumbar" else CERVICAL_LORDOSIS_SHARE
    rows = dims["vertebrae"]
    tilt = np.radians(dims["top_tilt_deg"])
    center = np.asarray(top_center_lps, float)
    vertebrae = []
    for n, (name, h, d, w, cap, cw) in enumerate(rows):
        if n > 0:
            prev = vertebrae[-1]
            gap = dims["disc_mm"][n - 1]
            new_tilt = tilt + np.radians(dims["lordosis_deg"] * share[n - 1])
            if name == "S1":
                new_tilt += np.radians(6.0)  # sacral slope beyond L5
            elif name.startswith("S"):
                new_tilt += np.radians(6.0)  # sacral kyphosis
            w_mid = _axes(0.5 * (tilt + new_tilt))[2]
            center = prev.frame.origin - prev.frame.w * prev.height_mm / 2 - w_mid * gap - _axes(new_tilt)[2] * h / 2
            tilt = new_tilt
        u, v, wa = _axes(tilt)
        vertebrae.append(Vertebra(name, Frame(center, u, v, wa), h, d, w, cap, cw))
    discs = []
    for n, gap in enumerate(dims["disc_mm"]):
        up, lo = vertebrae[n], vertebrae[n + 1]
        top = up.frame.origin - up.frame.w * up.height_mm / 2
        bottom = lo.frame.origin + lo.frame.w * lo.height_mm / 2
        w_mid = up.frame.w + lo.frame.w
        w_mid /= np.linalg.norm(w_mid)
        u_mid = np.cross(w_mid, np.array([1.0, 0, 0]))
        u_mid = -u_mid if u_mid[1] < 0 else u_mid
        frame = Frame(0.5 * (top + bottom), u_mid, np.array([1.0, 0, 0]), w_mid)
        cuts = [(up.frame.w, float(up.frame.w @ top)), (-lo.frame.w, float(-lo.frame.w @ bottom))]
        discs.append(Disc(f"{up.name}/{lo.name}", n, gap, 0.5 * (up.depth_mm + lo.depth_mm),
                          0.5 * (up.width_mm + lo.width_mm), frame, cuts))
    z_pts = [v.frame.origin[2] for v in vertebrae]
    order = np.argsort(z_pts)
    z = np.array(z_pts)[order]
    y = np.array([v.frame.origin[1] for v in vertebrae])[order]
    t = np.array([np.arctan2(-v.frame.w[1], v.frame.w[2]) for v in vertebrae])[order]
    dense_z = np.linspace(z[0] - 60, z[-1] + 60, 400)
    return Spine(region, vertebrae, discs, dense_z, np.interp(dense_z, z, y), np.interp(dense_z, z, t))


def disc_of_level(spine: Spine, level: str) -> Disc:
    return next(d for d in spine.discs if d.level == level)
