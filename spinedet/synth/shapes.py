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
        """The world box of the solid, cuts included; it contains the solid (prisms: exact up to 0.05 mm)."""
        if self.kind == "prism":
            return self._prism_box()
        a, b, c = self.semi_mm
        g = (np.arange(n) + 0.5) / n * 2.0 - 1.0
        uu, vv, ww = np.meshgrid(g * a, g * b, g * c, indexing="ij")
        p = self.frame.world(uu.ravel(), vv.ravel(), ww.ravel())
        m = self.inside(p[:, 0], p[:, 1], p[:, 2])
        if not m.any():
            return None
        axes = np.stack([self.frame.u, self.frame.v, self.frame.w], axis=1)
        margin = np.abs(axes) @ (2.0 * np.array([a, b, c]) / n)  # one sampling step
        return np.concatenate([p[m].min(axis=0) - margin, p[m].max(axis=0) + margin])

    def _prism_box(self, n_rim: int = 1440) -> np.ndarray | None:
        """A convex prism's box: its rim points at the lowest and highest w the cuts leave, in world space."""
        a, b, c = self.semi_mm
        t = np.linspace(0.0, 2 * np.pi, n_rim, endpoint=False)
        cos, sin = np.cos(t), np.sin(t)
        u = a * np.sign(cos) * np.abs(cos) ** (2.0 / self.exponent)
        v = b * np.sign(sin) * np.abs(sin) ** (2.0 / self.exponent)
        lo, hi = np.full(n_rim, -c), np.full(n_rim, c)
        base = self.frame.world(u, v, np.zeros(n_rim))
        for normal, offset in self.cuts:
            nw = float(np.dot(normal, self.frame.w))
            rhs = offset - base @ np.asarray(normal, float)
            if abs(nw) < 1e-12:
                hi = np.where(rhs >= 0, hi, -np.inf)
            elif nw > 0:
                hi = np.minimum(hi, rhs / nw)
            else:
                lo = np.maximum(lo, rhs / nw)
        keep = lo <= hi
        if not keep.any():
            return None
        pts = np.concatenate([base[keep] + np.multiply.outer(lo[keep], self.frame.w),
                              base[keep] + np.multiply.outer(hi[keep], self.frame.w)])
        return np.concatenate([pts.min(axis=0) - 0.05, pts.max(axis=0) + 0.05])


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
        dv2 = dv * dv
        if np.isfinite(self.z_range_mm[0]) or np.isfinite(self.z_range_mm[1]):
            outside = (zz < self.z_range_mm[0]) | (zz > self.z_range_mm[1])
            dv2 = np.where(outside, np.inf, dv2)  # on the small arrays, before broadcasting to the block
        return du * du + dv2 <= 1.0

    def bounds_lps(self) -> np.ndarray:
        r_ap = self.semi_ap_mm / np.maximum(self.cos_tilt, 0.2)
        z0, z1 = self.z_range_mm
        return np.array([
            np.min(self.x_mm - self.semi_lr_mm), np.min(self.y_mm - r_ap), z0,
            np.max(self.x_mm + self.semi_lr_mm), np.max(self.y_mm + r_ap), z1,
        ])
