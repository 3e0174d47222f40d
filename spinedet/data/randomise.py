"""Domain randomisation after SynthSeg (Billot et al.): per training sample, scanner effects drawn far wider than
the training centre shows, so that the model learns what does not change between hospitals.

`train.randomise` names each effect with its probability `p` and range; an effect absent (or `p` 0) is off. The
effects act on the last three axes of a normalised volume or of a scan's stack of crops (K, D, H, W); one draw
serves the whole stack, as one scanner made all of a scan's levels."""

from __future__ import annotations

import inspect

import numpy as np
from monai.transforms import GibbsNoise, RandHistogramShift
from scipy.ndimage import uniform_filter1d, zoom

EFFECTS = ("remap", "resolution", "gibbs", "ghosting", "rician")  # in the order they are applied


def remap(x: np.ndarray, rng: np.random.Generator, control_points: tuple[int, int]) -> np.ndarray:
    """A random monotone intensity curve through `control_points` knots (MONAI's histogram shift)."""
    shift = RandHistogramShift(num_control_points=(int(control_points[0]), int(control_points[1])), prob=1.0)
    shift.set_random_state(seed=int(rng.integers(2**31)))
    return np.asarray(shift(x[None] if x.ndim == 3 else x)).reshape(x.shape)


def resolution_loss(x: np.ndarray, rng: np.random.Generator, factor: tuple[float, float]) -> np.ndarray:
    """Thicker slices or a coarser matrix along one random axis: averaged over `f` voxels, sampled every `f`, and
    interpolated back to the grid (f drawn from `factor`)."""
    f = rng.uniform(*factor)
    axis = x.ndim - 3 + int(rng.integers(3))
    n = x.shape[axis]
    m = max(1, int(round(n / f)))
    if m >= n:
        return x
    down = [1.0] * x.ndim
    down[axis] = m / n
    low = zoom(uniform_filter1d(x, size=max(1, int(round(f))), axis=axis, mode="nearest"), down, order=1,
               grid_mode=True, mode="nearest")
    up = [1.0] * x.ndim
    up[axis] = n / low.shape[axis]
    return zoom(low, up, order=1, grid_mode=True, mode="nearest").astype(np.float32)


def gibbs(x: np.ndarray, rng: np.random.Generator, alpha: tuple[float, float]) -> np.ndarray:
    """Ringing at edges from a truncated k-space (MONAI's Gibbs noise; alpha 0: none, 1: all of k-space cut)."""
    ring = GibbsNoise(alpha=float(rng.uniform(*alpha)))
    return np.asarray(ring(x[None] if x.ndim == 3 else x)).reshape(x.shape).astype(np.float32)


def ghosting(x: np.ndarray, rng: np.random.Generator, ghosts: tuple[int, int], intensity: tuple[float, float]
             ) -> np.ndarray:
    """Periodic motion ghosts along a random in-plane (phase-encode) axis: every `n`-th k-space line but the
    centre one weakened by `intensity`, which repeats the image n times along that axis at that strength."""
    axis = x.ndim - 1 - int(rng.integers(2))
    n = int(rng.integers(ghosts[0], ghosts[1] + 1))
    lines = x.shape[axis]
    k = np.fft.fft(x, axis=axis)
    index = np.arange(lines)
    weight = np.where((index % n == 0) & (index != 0), 1 - rng.uniform(*intensity), 1.0)
    shape = [1] * x.ndim
    shape[axis] = lines
    return np.abs(np.fft.ifft(k * weight.reshape(shape), axis=axis)).astype(np.float32)


def rician(x: np.ndarray, rng: np.random.Generator, std: tuple[float, float]) -> np.ndarray:
    """Magnitude noise: |x + n1 + i n2| with Gaussian n1, n2 of a standard deviation drawn from `std`."""
    sigma = rng.uniform(*std)
    return np.hypot(x + rng.normal(0, sigma, x.shape), rng.normal(0, sigma, x.shape)).astype(np.float32)


def randomise(x: np.ndarray, rng: np.random.Generator, options: dict) -> np.ndarray:
    """`x` with each effect of `options` (name -> {"p": probability, range...}) applied with its probability; no
    options: `x` itself, and `rng` untouched (training without randomisation draws what it drew before)."""
    out = x
    for name in (e for e in EFFECTS if e in options):
        settings = dict(options[name])
        if rng.random() < float(settings.pop("p", 0.0)):
            out = EFFECT_FUNCTIONS[name](out, rng, **settings)
    return out


EFFECT_FUNCTIONS = {"remap": remap, "resolution": resolution_loss, "gibbs": gibbs, "ghosting": ghosting,
                    "rician": rician}


def check_options(options: dict) -> None:
    """Raise ValueError naming the first effect of `train.randomise` that is unknown or has a wrong setting."""
    if not isinstance(options, dict):
        raise ValueError("train.randomise must map effect names to settings")
    for name, settings in options.items():
        if name not in EFFECT_FUNCTIONS:
            raise ValueError(f"train.randomise: unknown effect {name!r} (known: {', '.join(EFFECTS)})")
        arguments = set(inspect.signature(EFFECT_FUNCTIONS[name]).parameters) - {"x", "rng"}
        given = set(settings) - {"p"} if isinstance(settings, dict) else set()
        if not isinstance(settings, dict) or given != arguments or not 0 <= settings.get("p", -1) <= 1:
            raise ValueError(f"train.randomise.{name} needs p in [0, 1] and exactly {sorted(arguments)}")
