"""Analytic solids in world (LPS mm) space: each answers which points lie inside it and bounds itself."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Frame:
    """A local frame: origin and orthonormal axes (u posterior, v lateral, w superior), all in LPS mm."""

    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    w: np.ndarray

    def local(self, x, y, z):
        """Local (u, v, w) coordinates of broadcastable world coordinate arrays."""
        dx, dy, dz = x - self.origin[0], y - self.origin[1], z - self.origin[2]
        return tuple(_dot(axis, dx, dy, dz) for axis in (self.u, self.v, self.w))

    def world(self, u, v, w) -> np.ndarray:
        """World points (..., 3) of local coordinates."""
        return self.origin + np.multiply.outer(u, self.u) + np.multiply.outer(v, self.v) + np.multiply.outer(w, self.w)

    def shifted(self, du: float = 0.0, dv: float = 0.0, dw: float = 0.0) -> "Frame":
        return Frame(self.origin + du * self.u + dv * self.v + dw * self.w, self.u, self.v, self.w)


def _dot(axis, dx, dy, dz):
    """axis . (dx, dy, dz), skipping zero components so that broadcast arrays stay small."""
    out = 0.0
    for a, d in zip(axis, (dx, dy, dz)):
        if a != 0.0:
            out = out + a * d
    return out


@dataclass
class Solid:
    """A superellipsoid-like solid in a frame, optionally cut by half-spaces n . p <= d (world)."""

    frame: Frame
    semi_mm: tuple[float, float, float]  # semi-axes along u, v, w
    kind: str = "ellipsoid"  # ellipsoid | prism (superellipse in u,v; slab in w) | cuboid
    exponent: float = 2.0  # superellipse exponent of the u,v cross-section
    cuts: list = field(default_factory=list)  # [(normal_lps (3,), offset_mm)]

    def inside(self, x, y, z) -> np.ndarray:
        u, v, w = self.frame.local(x, y, z)
        a, b, c = self.semi_mm
        if self.kind == "ellipsoid":
            m = (u / a) ** 2 + (v / b) ** 2 + (w / c) ** 2 <= 1.0
        elif self.kind == "prism":
            e = self.exponent
            m = (np.abs(u / a) ** e + np.abs(v / b) ** e <= 1.0) & (np.abs(w) <= c)
        else:
            m = (np.abs(u) <= a) & (np.abs(v) <= b) & (np.abs(w) <= c)
        for normal, offset in self.cuts:
            m = m & (_dot(normal, x, y, z) <= offset)
        return m

    def bounds_lps(self) -> np.ndarray:
        """A conservative world box [x0, y0, z0, x1, y1, z1] around the uncut solid."""
        axes = np.stack([self.frame.u, self.frame.v, self.frame.w], axis=1)
        half = np.abs(axes) @ np.asarray(self.semi_mm, float)
        return np.concatenate([self.frame.origin - half, self.frame.origin + half])

    def tight_box_lps(self, n: int = 48) -> np.ndarray | None:
        """The world box of the solid, cuts included, from a dense local sample; it contains the solid."""
        a, b, c = self.semi_mm
        g = (np.arange(n) + 0.5) / n * 2.0 - 1.0
        uu, vv, ww = np.meshgrid(g * a, g * b, g * c, indexing="ij")
        p = self.frame.world(uu.ravel(), vv.ravel(), ww.ravel())
        m = self.inside(p[:, 0], p[:, 1], p[:, 2])
        if not m.any():
            return None
        axes = np.stack([self.frame.u, self.frame.v, self.frame.w], axis=1)
        margin = np.abs(axes) @ (np.array([a, b, c]) / n)
        return np.concatenate([p[m].min(axis=0) - margin, p[m].max(axis=0) + margin])


@dataclass
class Tube:
    """A tube with elliptical cross-section along a centreline given as functions of z (LPS mm)."""

    z_mm: np.ndarray  # increasing sample positions
    x_mm: np.ndarray  # centre x at each z
    y_mm: np.ndarray  # centre y at each z
    cos_tilt: np.ndarray  # cosine of the centreline's angle to z: AP widths are measured perpendicular to it
    semi_ap_mm: np.ndarray
    semi_lr_mm: np.ndarray
    z_range_mm: tuple[float, float] = (-np.inf, np.inf)

    def inside(self, x, y, z) -> np.ndarray:
        zz = np.asarray(z, float)
        f = lambda values: np.interp(zz, self.z_mm, values)  # noqa: E731
        du = (y - f(self.y_mm)) * f(self.cos_tilt) / f(self.semi_ap_mm)
        dv = (x - f(self.x_mm)) / f(self.semi_lr_mm)
        m = du * du + dv * dv <= 1.0
        if np.isfinite(self.z_range_mm[0]) or np.isfinite(self.z_range_mm[1]):
            m = m & (zz >= self.z_range_mm[0]) & (zz <= self.z_range_mm[1])
        return m

    def bounds_lps(self) -> np.ndarray:
        r_ap = self.semi_ap_mm / np.maximum(self.cos_tilt, 0.2)
        z0, z1 = self.z_range_mm
        return np.array([
            np.min(self.x_mm - self.semi_lr_mm), np.min(self.y_mm - r_ap), z0,
            np.max(self.x_mm + self.semi_lr_mm), np.max(self.y_mm + r_ap), z1,
        ])
