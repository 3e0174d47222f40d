"""The patient model as an ordered list of painted solids (later ones overwrite earlier) plus truth solids."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spinedet.synth import tissues as T
from spinedet.synth.anatomy import Spine
from spinedet.synth.lesions import Lesion
from spinedet.synth.shapes import Solid, Tube

SITE_OFFSET = {"central": 0.0, "paracentral left": 0.25, "paracentral right": -0.25,
               "foraminal left": 0.62, "foraminal right": -0.62}  # times canal width; +x is patient left


@dataclass
class Model:
    """Everything needed to render a patient and to state the truth."""

    paint: list = field(default_factory=list)  # [(label code, solid or tube)]
    relaxation: dict = field(default_factory=dict)  # {label code: 5-tuple}, beyond the fixed tissues
    disc_solids: list = field(default_factory=list)  # [(level, solid, annulus code, nucleus code)]
    lesion_solids: list = field(default_factory=list)  # [(Lesion, truth solid, label codes)]


def _tube(spine: Spine, offset_mm, semi_ap_mm, semi_lr_mm, x_mm=0.0, z_range=(-np.inf, np.inf), vertical=False):
    """A tube at a posterior offset from the body axis; sizes are scalars or arrays over the axis samples."""
    n = spine.axis_z_mm.size
    off = np.broadcast_to(np.asarray(offset_mm, float), (n,))
    t = spine.axis_tilt_rad
    if vertical:
        y = np.full(n, spine.axis_y_mm.mean()) + off
        z, cos = spine.axis_z_mm, np.ones(n)
    else:
        if np.max(np.abs(off)) > 25.0:  # far from the axis the tube cannot follow the sacral bend
            t = np.clip(t, -0.5, 0.5)
        y = spine.axis_y_mm + off * np.cos(t)
        z, cos = spine.axis_z_mm + off * np.sin(t), np.cos(t)
    order = np.argsort(z)
    b = lambda a: np.broadcast_to(np.asarray(a, float), (n,))[order]  # noqa: E731
    return Tube(z[order], b(x_mm), y[order], cos[order], b(semi_ap_mm), b(semi_lr_mm), z_range)


def _per_vertebra(spine: Spine, values) -> np.ndarray:
    """Values given per vertebra, interpolated along the dense axis samples."""
    z = np.array([v.frame.origin[2] for v in spine.vertebrae])
    order = np.argsort(z)
    return np.interp(spine.axis_z_mm, z[order], np.asarray(values, float)[order])


def _dip(spine: Spine, z_center: float, width_mm: float, fraction: float) -> np.ndarray:
    """A smooth narrowing factor along the axis: `fraction` at z_center, 1 far from it."""
    return 1.0 - (1.0 - fraction) * np.exp(-(((spine.axis_z_mm - z_center) / width_mm) ** 2))


def build_model(spine: Spine, lesions: list[Lesion], body: dict) -> Model:
    """Solids of the torso, muscles, canal, bones, discs and lesions in painting order."""
    m = Model()
    lumbar = spine.region == "lumbar"
    size = body["size"]
    by_level = {}
    for n, lesion in enumerate(lesions):
        by_level.setdefault((lesion.cls, lesion.level), (n, lesion))
    depth = _per_vertebra(spine, [v.depth_mm for v in spine.vertebrae])
    canal_ap = _per_vertebra(spine, [v.canal_ap_mm for v in spine.vertebrae])
    canal_w = _per_vertebra(spine, [v.canal_width_mm for v in spine.vertebrae])
    canal_mid = depth / 2 + 1.5 + canal_ap / 2

    # torso with subcutaneous fat, muscles
    semi_ap, semi_lr, centre = (115 * size, 150 * size, -30 * size) if lumbar else (55 * size, 60 * size, 12 * size)
    fat = body["fat_mm"]
    m.paint.append((T.FAT, _tube(spine, centre, semi_ap + fat, semi_lr + fat, vertical=True)))
    m.paint.append((T.SOFT, _tube(spine, centre, semi_ap, semi_lr, vertical=True)))
    muscle_bottom = spine.vertebrae[-3].frame.origin[2] if lumbar else -np.inf
    para = (canal_mid + canal_ap / 2 + (24 if lumbar else 16) * size)
    for side in (-1, 1):
        m.paint.append((T.MUSCLE, _tube(spine, para, (22 if lumbar else 17) * size, (24 if lumbar else 18) * size,
                                        x_mm=side * (27 if lumbar else 20) * size, z_range=(muscle_bottom, np.inf))))
    if lumbar:
        z_l1, z_s1 = (next(v for v in spine.vertebrae if v.name == n).frame.origin[2] for n in ("L1", "S1"))
        grow = np.clip((z_l1 - spine.axis_z_mm) / max(z_l1 - z_s1, 1.0), 0.1, 1.0)
        for side in (-1, 1):
            m.paint.append((T.MUSCLE, _tube(spine, 0.0, 4 + 14 * grow * size, 5 + 16 * grow * size,
                                            x_mm=side * (canal_w / 2 + 30 * size + 10 * grow), z_range=(z_s1, z_l1))))
    else:
        m.paint.append((T.AIR, _tube(spine, -(depth / 2 + 16 * size), 7 * size, 10 * size)))

    # spinal canal: ligaments in front, epidural fat behind, then (after the bones) the dural sac
    m.paint.append((T.LIGAMENT, _tube(spine, canal_mid - 0.75, canal_ap / 2 + 0.75, canal_w / 2)))
    m.paint.append((T.EPIDURAL_FAT, _tube(spine, canal_mid + 0.5, canal_ap / 2 - 0.5, canal_w / 2 - 0.5)))

    for i, v in enumerate(spine.vertebrae):
        _vertebra(m, spine, i, v, lumbar)

    sac_ap = canal_ap / 2 - (1.5 if lumbar else 1.0)
    sac_lr = canal_w / 2 - (2.5 if lumbar else 2.0)
    for n, lesion in enumerate(lesions):
        if lesion.cls == "stenosis":
            disc = next(d for d in spine.discs if d.level == lesion.level)
            sac_ap = sac_ap * _dip(spine, disc.frame.origin[2], disc.height_mm + 4, lesion.params["sac_ap_fraction"])
    bottom = spine.vertebrae[-3].frame.origin[2] if lumbar else -np.inf
    for d in spine.discs:
        _facets(m, spine, d, ("stenosis", d.level) in by_level)
        _narrowed_canal(m, spine, d, by_level.get(("stenosis", d.level)))
    m.paint.append((T.CSF, _tube(spine, canal_mid - 0.3, np.maximum(sac_ap, 1.0), sac_lr, z_range=(bottom, np.inf))))
    _neural(m, spine, canal_mid, sac_ap, body, lumbar)

    for d in spine.discs:
        _flavum(m, spine, d, by_level.get(("stenosis", d.level)))
    for n, d in enumerate(spine.discs):
        _disc(m, d, n, by_level)
    for n, lesion in enumerate(lesions):
        if lesion.cls == "herniation":
            _herniation(m, spine, lesion, n)
    return m


def _vertebra(m: Model, spine: Spine, i: int, v, lumbar: bool) -> None:
    f, h, d, w = v.frame, v.height_mm, v.depth_mm, v.width_mm
    m.paint.append((T.CORTEX, Solid(f, (d / 2, w / 2, h / 2), "prism", 2.6)))
    m.paint.append((T.MARROW, Solid(f, (d / 2 - 1.3, w / 2 - 1.3, h / 2 - 1.0), "prism", 2.6)))
    cap, cw = v.canal_ap_mm, v.canal_width_mm
    post = d / 2 + 1.5 + cap  # posterior wall of the canal
    bone = T.POSTERIOR_BONE
    for side in (-1, 1):
        m.paint.append((bone, Solid(f.shifted(d / 2 + cap / 2 + 1.0, side * (cw / 2 + 3.5), 0.15 * h),
                                    (cap / 2 + 1.5, 3.5, 0.25 * h), "cuboid")))
        if lumbar and not v.name.startswith("S"):
            m.paint.append((bone, Solid(f.shifted(d / 2 + cap * 0.7, side * (cw / 2 + 16), 0.1 * h), (4, 11, 4.5))))
    m.paint.append((bone, Solid(f.shifted(post + 3.2, 0, -0.05 * h), (3.2, cw / 2 + 6, 0.42 * h), "cuboid")))
    if not v.name.startswith("S"):
        length = 30.0 if lumbar else {"C2": 24, "C7": 30, "T1": 32, "T2": 32, "T3": 32}.get(v.name, 17)
        sp = f.shifted(post + 4 + length / 2, 0, -0.25 * h)
        m.paint.append((bone, Solid(sp, (length / 2, 3.0, 0.28 * h), "prism", 3.0)))
    if v.name == "C2":  # dens, and the atlas arches around it
        m.paint.append((T.CORTEX, Solid(f.shifted(-0.05 * d, 0, h / 2 + 7), (5.5, 5.5, 10))))
        m.paint.append((T.MARROW, Solid(f.shifted(-0.05 * d, 0, h / 2 + 7), (4.3, 4.3, 8.8))))
        m.paint.append((bone, Solid(f.shifted(-d / 2 - 3.5, 0, h / 2 + 11), (3.5, 8, 5))))
        m.paint.append((bone, Solid(f.shifted(post + 3, 0, h / 2 + 9), (3.5, cw / 2 + 5, 4.5))))


def _facets(m: Model, spine: Spine, d, hypertrophy: bool) -> None:
    up = spine.vertebrae[d.upper]
    k = 1.35 if hypertrophy else 1.0
    u0 = d.depth_mm / 2 + 1.5 + up.canal_ap_mm * 0.85
    for side in (-1, 1):
        f = d.frame.shifted(u0, side * (up.canal_width_mm / 2 + 5.5), 0)
        m.paint.append((T.POSTERIOR_BONE, Solid(f, (6.5 * k, 5.5 * k, d.height_mm / 2 + 7))))


def _neural(m: Model, spine: Spine, canal_mid, sac_ap, body: dict, lumbar: bool) -> None:
    if not lumbar:
        m.paint.append((T.CORD, _tube(spine, canal_mid - 0.5, np.minimum(4.0, sac_ap - 1.5), 6.2 * body["size"])))
        return
    z = spine.axis_z_mm
    tip = body["conus_z_mm"]
    taper = np.clip((z - tip) / 30.0, 0.12, 1.0)
    m.paint.append((T.CORD, _tube(spine, canal_mid, 3.8 * taper, 4.6 * taper, z_range=(tip, np.inf))))
    for k, (dv, du, end) in enumerate(((-1.8, 1.5, 40), (1.8, 1.5, 40), (-4.0, 3.0, 80), (4.0, 3.0, 80),
                                       (-6.0, 1.0, 120), (6.0, 1.0, 120), (0.0, 3.5, 160))):
        m.paint.append((T.ROOT, _tube(spine, canal_mid + du, 1.2, 1.2, x_mm=dv, z_range=(tip - end, tip))))


def _canal_segment(spine: Spine, d) -> Solid:
    """The spinal canal at a disc's level: its AP and width, disc height + 10 mm high."""
    up = spine.vertebrae[d.upper]
    return Solid(d.frame.shifted(d.depth_mm / 2 + 1.5 + up.canal_ap_mm / 2, 0, 0),
                 (up.canal_ap_mm / 2, up.canal_width_mm / 2, d.height_mm / 2 + 5), "cuboid")


def _narrowed_canal(m: Model, spine: Spine, d, stenosis) -> None:
    """At a stenosed level, hypertrophic ligament and capsule (dark on T2) fill the canal round the narrowed sac,
    which is painted over it: the sac's bright AP is what is left (not epidural fat, as bright as CSF on T2)."""
    if stenosis is None:
        return
    code = T.LESION0 + stenosis[0]
    m.paint.append((code, _canal_segment(spine, d)))
    m.relaxation[code] = T.RELAXATION[T.LIGAMENT]


def _flavum(m: Model, spine: Spine, d, stenosis) -> None:
    up = spine.vertebrae[d.upper]
    post = d.depth_mm / 2 + 1.5 + up.canal_ap_mm
    thick = stenosis[1].params["flavum_mm"] if stenosis else 2.8
    solid = Solid(d.frame.shifted(post - thick / 2, 0, 0), (thick / 2, up.canal_width_mm / 2, d.height_mm / 2 + 5),
                  "cuboid")
    if stenosis is None:
        m.paint.append((T.LIGAMENT, solid))
        return
    n, lesion = stenosis
    code = T.LESION0 + n
    m.paint.append((code, solid))
    m.relaxation[code] = T.RELAXATION[T.LIGAMENT]
    m.lesion_solids.append((lesion, _canal_segment(spine, d), (code,)))


def _disc(m: Model, d, n: int, by_level: dict) -> None:
    annulus, nucleus = T.ANNULUS0 + n, T.NUCLEUS0 + n
    semi_w = d.height_mm / 2 + 0.35 * d.depth_mm
    bulge = by_level.get(("bulge", d.level))
    if bulge:
        code, e = T.LESION0 + bulge[0], bulge[1].params["extent_mm"]
        solid = Solid(d.frame, (d.depth_mm / 2 + e, d.width_mm / 2 + e, semi_w), "prism", 2.2, d.cuts)
        m.paint.append((code, solid))
        m.relaxation[code] = T.ANNULUS
        m.lesion_solids.append((bulge[1], solid, (code,)))
    disc = Solid(d.frame, (d.depth_mm / 2, d.width_mm / 2, semi_w), "prism", 2.2, d.cuts)
    m.paint.append((annulus, disc))
    if d.height_mm > 3.0:
        m.paint.append((nucleus, Solid(d.frame.shifted(0.06 * d.depth_mm, 0, 0),
                                       (0.3 * d.depth_mm, 0.32 * d.width_mm, 0.36 * d.height_mm), cuts=d.cuts)))
    degenerated = by_level.get(("degenerated_disc", d.level))
    m.relaxation[annulus] = T.ANNULUS if d.height_mm > 3.0 else T.RELAXATION[T.CORTEX]
    if degenerated:
        s = degenerated[1].params["nucleus_t2_scale"]
        pd, t1a, t2a, t1b, t2b = T.NUCLEUS_HEALTHY
        m.relaxation[nucleus] = (pd * 0.85, t1a, t2a * s, t1b, t2b * s)
        m.lesion_solids.append((degenerated[1], disc, (annulus, nucleus)))
    else:
        m.relaxation[nucleus] = T.NUCLEUS_HEALTHY
    m.disc_solids.append((d.level, disc, annulus, nucleus))


def _herniation(m: Model, spine: Spine, lesion: Lesion, n: int) -> None:
    d = next(x for x in spine.discs if x.level == lesion.level)
    up = spine.vertebrae[d.upper]
    p = lesion.params
    depth = p["depth_mm"]
    frame = d.frame.shifted(d.depth_mm / 2 + depth / 2 - 1.0, SITE_OFFSET[p["site"]] * up.canal_width_mm,
                            p["migration_mm"])
    margin = d.depth_mm / 2 - 1.5
    cut = (-d.frame.u, float(-(d.frame.u @ d.frame.origin) - margin))
    solid = Solid(frame, (depth / 2 + 1.0, p["width_mm"] / 2, (d.height_mm + p["extra_height_mm"]) / 2 + 0.5),
                  cuts=[cut])
    code = T.LESION0 + n
    m.paint.append((code, solid))
    m.relaxation[code] = T.HERNIATION
    m.lesion_solids.append((lesion, solid, (code,)))
