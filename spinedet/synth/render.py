"""Render a patient model on a stack's grid: paint labels on sub-slices, map to T2 signal, add the scanner."""

from __future__ import annotations

import numpy as np

from spinedet.io.geometry import box_world_to_voxel
from spinedet.synth import tissues as T
from spinedet.synth.acquisition import Stack
from spinedet.synth.scanner import CentreProfile
from spinedet.synth.structures import Model
from spinedet.synth.truth import coverage_lps


def paint_labels(model: Model, stack: Stack, sub_slices: int) -> np.ndarray:
    """Label codes (slices * sub_slices, rows, columns): each solid painted on its own bounding sub-block."""
    slice_pos = stack.slice_positions(sub_slices)
    n_rows, n_cols = stack.shape[1:]
    labels = np.zeros((slice_pos.size, n_rows, n_cols), np.uint8)
    cover = coverage_lps(stack)
    for code, solid in model.paint:
        bounds = solid.bounds_lps()
        lo, hi = np.maximum(bounds[:3], cover[:3]), np.minimum(bounds[3:], cover[3:])
        if np.any(lo > hi):
            continue
        vox = box_world_to_voxel(np.concatenate([lo, hi]), stack.affine)
        keep = np.nonzero((slice_pos >= vox[0]) & (slice_pos <= vox[3]))[0]
        r0, r1 = max(0, int(np.ceil(vox[1]))), min(n_rows - 1, int(np.floor(vox[4])))
        c0, c1 = max(0, int(np.ceil(vox[2]))), min(n_cols - 1, int(np.floor(vox[5])))
        if keep.size == 0 or r0 > r1 or c0 > c1:
            continue
        index = (slice_pos[keep[0]: keep[-1] + 1][:, None, None], np.arange(r0, r1 + 1.0)[None, :, None],
                 np.arange(c0, c1 + 1.0)[None, None, :])
        mask = solid.inside(*_world(stack.affine, index))
        target = labels[keep[0]: keep[-1] + 1, r0: r1 + 1, c0: c1 + 1]
        np.copyto(target, np.uint8(code), where=mask)
    return labels


def _world(affine: np.ndarray, index: tuple) -> list:
    """World x, y, z of broadcastable voxel index arrays, leaving out zero terms so that arrays stay small."""
    out = []
    for w in range(3):
        value = affine[w, 3]
        for a in range(3):
            if affine[w, a] != 0.0:
                value = value + affine[w, a] * index[a]
        out.append(np.asarray(value, float))
    return out


def ideal_signal(labels: np.ndarray, lut: np.ndarray, texture: np.ndarray, field: np.ndarray,
                 fat_streaks: np.ndarray, sub_slices: int) -> np.ndarray:
    """Noise-free textured signal, partial-volume averaged over the sub-slices of each slice.

    `texture` is the amplitude per label, `field` a smooth unit field on the output grid (slices, rows, columns),
    `fat_streaks` the fat fraction (0-1) of the muscle at each output voxel (intramuscular fat). The fields do
    not vary through a slice, so each term is averaged over the sub-slices first and then multiplied.
    """
    sub = labels.reshape(-1, sub_slices, *labels.shape[1:])
    mean = lambda table: table[sub].mean(axis=1, dtype=np.float32)  # noqa: E731
    muscle = (sub == T.MUSCLE).mean(axis=1, dtype=np.float32)
    s = mean(lut) + np.clip(field, -2.5, 2.5) * mean(lut * texture)
    s += muscle * fat_streaks * (lut[T.FAT] - lut[T.MUSCLE])
    return np.maximum(s, 0.0)


def fat_streaks(rng: np.random.Generator, shape: tuple, pixel_mm: float, view: str) -> np.ndarray:
    """Intramuscular fat fraction: thin streaks along the fibres (superior-inferior), dots across them."""
    grain = (18.0, 3.0) if view == "sagittal" else (3.0, 3.0)
    return np.clip(0.9 * (texture_field(rng, shape, pixel_mm, grain) / 1.6 - 1.1), 0.0, 0.6)


def texture_field(rng: np.random.Generator, shape: tuple, pixel_mm: float, grain_mm=(7.0, 7.0)) -> np.ndarray:
    """A smooth Gaussian field, independent per slice, with a grain of about `grain_mm` along rows and columns."""
    cells = [max(2, int(round(shape[a] * pixel_mm / grain_mm[a - 1]))) for a in (1, 2)]
    coarse = rng.standard_normal((shape[0], *cells), dtype=np.float32)
    return 1.6 * _interpolate(_interpolate(coarse, shape[1], axis=1), shape[2], axis=2)


def _interpolate(values: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Linear interpolation of evenly spread samples along `axis` onto `n` samples (elementwise, no BLAS threads)."""
    cells = values.shape[axis]
    position = np.linspace(0.0, cells - 1.0, n)
    lower = np.minimum(position.astype(int), cells - 2)
    frac_shape = [1] * values.ndim
    frac_shape[axis] = n
    frac = (position - lower).astype(np.float32).reshape(frac_shape)
    return np.take(values, lower, axis=axis) * (1.0 - frac) + np.take(values, lower + 1, axis=axis) * frac


def acquire(signal: np.ndarray, stack: Stack, profile: CentreProfile, rng: np.random.Generator) -> np.ndarray:
    """Bias field, motion ghosts, Rician noise and the vendor's integer scale, as int16."""
    s = np.asarray(signal, np.float32)
    rows, cols, slices = (np.linspace(-1, 1, n, dtype=np.float32) for n in (s.shape[1], s.shape[2], s.shape[0]))
    c = rng.normal(size=4)
    radial = -0.25 * (1 + 0.3 * c[3])
    posterior_rows, posterior_cols = (0.0, 1.0) if stack.view == "sagittal" else (1.0, 0.0)  # coils behind
    # the log bias is a sum of per-axis terms, so the field is an outer product of three 1D factors
    f_rows = np.exp(profile.bias * ((posterior_rows + 0.3 * c[0]) * rows + radial * rows**2))
    f_cols = np.exp(profile.bias * ((posterior_cols + 0.3 * c[1]) * cols + radial * cols**2))
    f_slices = np.exp(profile.bias * 0.15 * c[2] * slices)
    s = s * ((f_slices[:, None] * f_rows[None, :])[:, :, None] * f_cols[None, None, :]).astype(np.float32)
    pe_axis = 2 if stack.view == "sagittal" else 1
    shift = s.shape[pe_axis] // int(rng.integers(3, 7))
    ghost = np.roll(s, shift, axis=pe_axis)
    ghost += np.roll(s, -shift, axis=pe_axis)
    ghost *= np.float32(profile.ghost / 2)
    s += ghost
    sigma = np.float32(np.mean(s, where=s > 0.05 * s.max()) / profile.snr)
    real = rng.standard_normal(s.shape, dtype=np.float32)
    real *= sigma
    real += s
    real *= real
    imag = rng.standard_normal(s.shape, dtype=np.float32)
    imag *= sigma
    imag *= imag
    real += imag
    np.sqrt(real, out=real)
    real *= np.float32(profile.vendor_scale)
    np.rint(real, out=real)
    np.clip(real, 0, 32767, out=real)
    return real.astype(np.int16)


def lookup(model: Model, profile: CentreProfile, marrow_t2_scale: float) -> np.ndarray:
    """The patient's signal per label at the centre's field strength and TR/TE."""
    extra = dict(model.relaxation)
    pd, t1a, t2a, t1b, t2b = T.RELAXATION[T.MARROW]
    extra[T.MARROW] = (pd, t1a, t2a * marrow_t2_scale, t1b, t2b * marrow_t2_scale)
    return T.lookup_table(profile.field_t, profile.tr_ms, profile.te_ms, extra)
