"""Tissue labels and their relaxation parameters; T2-weighted fast spin echo signal from PD, T1, T2 and TR/TE."""

from __future__ import annotations

import numpy as np

# Label codes painted into the model. Per-disc and per-lesion codes get their own ranges so that every
# disc and lesion can be found again in the rendered label map.
AIR, FAT, SOFT, MUSCLE, CORTEX, MARROW, POSTERIOR_BONE, CSF, CORD, LIGAMENT, EPIDURAL_FAT, ROOT = range(12)
NUCLEUS0 = 40  # nucleus of disc d: NUCLEUS0 + d
ANNULUS0 = 70  # annulus of disc d: ANNULUS0 + d
LESION0 = 100  # lesion n: LESION0 + n
N_LABELS = 160

# (proton density relative to CSF, T1 ms, apparent T2 ms on fast spin echo) at 1.5 T and at 3 T.
# Sources: Stanisz et al., MRM 2005;54:507 (muscle, cartilage, spinal cord, 1.5/3 T); de Bazelaire et al.,
# Radiology 2004;230:652 (marrow, fat, 1.5/3 T); Rooney et al., MRM 2007;57:308 (CSF); Marinelli et al.,
# Magn Reson Imaging 2009 (intervertebral disc T2). Fat on FSE appears with a longer T2 (J-coupling).
RELAXATION = {
    #                 PD    T1@1.5 T2@1.5  T1@3  T2@3
    AIR:            (0.00,  1000,   1,    1000,   1),
    FAT:            (0.95,   290,  150,    380,  133),
    SOFT:           (0.65,   800,   50,   1200,   45),
    MUSCLE:         (0.70,  1010,   44,   1420,   40),
    CORTEX:         (0.06,  1000,    2,   1000,    2),
    MARROW:         (0.85,   550,  115,    690,  105),
    POSTERIOR_BONE: (0.70,   600,   85,    750,   75),
    CSF:            (1.00,  4000, 1800,   4300, 1500),
    CORD:           (0.80,   750,   78,   1000,   70),
    LIGAMENT:       (0.40,   800,   25,   1100,   22),
    EPIDURAL_FAT:   (0.95,   290,  150,    380,  133),
    ROOT:           (0.75,   800,   75,   1050,   68),
}
NUCLEUS_HEALTHY = (0.90, 1100, 190, 1300, 170)
NUCLEUS_DEGENERATED = (0.75, 900, 55, 1100, 48)
ANNULUS = (0.65, 900, 40, 1200, 36)
HERNIATION = (0.80, 1000, 85, 1250, 75)


# Relative amplitude of each tissue's smooth texture (marrow heterogeneity, fatty streaks in muscle, bowel).
TEXTURE = {FAT: 0.08, SOFT: 0.25, MUSCLE: 0.3, MARROW: 0.18, POSTERIOR_BONE: 0.2, EPIDURAL_FAT: 0.1}


def texture_table(extra_codes) -> np.ndarray:
    """Texture amplitude per label code (N_LABELS,); discs and lesions (`extra_codes`) get a faint one."""
    amp = np.zeros(N_LABELS, np.float32)
    for code in extra_codes:
        amp[code] = 0.06
    for code, value in TEXTURE.items():
        amp[code] = value
    return amp


def signal(pd: float, t1_ms: float, t2_ms: float, tr_ms: float, te_ms: float) -> float:
    """Spin echo signal PD (1 - exp(-TR/T1)) exp(-TE/T2), relative to CSF proton density."""
    return float(pd * (1.0 - np.exp(-tr_ms / t1_ms)) * np.exp(-te_ms / t2_ms))


def relaxation_at(params: tuple, field_t: float) -> tuple[float, float, float]:
    """(PD, T1, T2) of a 5-tuple at 1.5 or 3 T, linearly interpolated in field strength."""
    pd, t1a, t2a, t1b, t2b = params
    f = float(np.clip((field_t - 1.5) / 1.5, 0.0, 1.0))
    return pd, t1a + f * (t1b - t1a), t2a + f * (t2b - t2a)


def lookup_table(field_t: float, tr_ms: float, te_ms: float, extra: dict[int, tuple]) -> np.ndarray:
    """Signal per label code (N_LABELS,) for the fixed tissues plus `extra` {code: 5-tuple of relaxation}."""
    lut = np.zeros(N_LABELS, np.float32)
    for code, params in {**RELAXATION, **extra}.items():
        lut[code] = signal(*relaxation_at(params, field_t), tr_ms, te_ms)
    return lut
