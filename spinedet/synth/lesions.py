"""Which degenerative findings a patient has: prevalence by age and level, and each finding's parameters."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spinedet.data.levels import REGION_LEVELS

# Relative prevalence by level: degeneration clusters at L4/L5 and L5/S1 (Teraguchi et al., Osteoarthritis
# Cartilage 2014;22:104) and at C5/C6 and C6/C7 (Matsumoto et al., J Bone Joint Surg Br 1998;80:19).
LEVEL_WEIGHT = {
    "T12/L1": 0.12, "L1/L2": 0.2, "L2/L3": 0.3, "L3/L4": 0.5, "L4/L5": 1.0, "L5/S1": 0.95,
    "C2/C3": 0.1, "C3/C4": 0.35, "C4/C5": 0.55, "C5/C6": 1.0, "C6/C7": 0.85, "C7/T1": 0.15,
}
HERNIATION_SITES = ("central", "paracentral left", "paracentral right", "foraminal left", "foraminal right")
HERNIATION_SITE_P = (0.3, 0.27, 0.27, 0.08, 0.08)
# stenosis grades by the fraction of the healthy dural sac AP left at the disc (spinedet.synth.stenosis)
MILD_ABOVE, SEVERE_BELOW = 0.45, 0.3


@dataclass
class Lesion:
    cls: str  # herniation | bulge | degenerated_disc | stenosis
    level: str
    detail: str = ""
    params: dict = field(default_factory=dict)
    grade: str | None = None  # as spinedet.data.grades.GRADES names it; bulge has none


def pfirrmann_grade(height_loss: float, nucleus_t2_scale: float) -> str:
    """The Pfirrmann grade of a rendered degenerated disc from its height loss (0.2-0.5 of the disc) and nucleus T2
    signal (0.3-0.55 of a healthy one): each mapped to [0, 1] (1 the most degenerate), their sum split in thirds."""
    severity = (height_loss - 0.2) / 0.3 + (0.55 - nucleus_t2_scale) / 0.25
    return "III" if severity < 2 / 3 else "IV" if severity < 4 / 3 else "V"


def stenosis_grade(sac_ap_left: float) -> str:
    """The grade of a rendered canal stenosis from the fraction of the healthy dural sac's AP left at the disc."""
    return "mild" if sac_ap_left > MILD_ABOVE else "moderate" if sac_ap_left > SEVERE_BELOW else "severe"


def stenosis_params(severity: float, flavum_jitter_mm: float) -> dict:
    """One severity (0-1) drives both what narrows the canal: the dural sac's AP scale at the disc (0.6 to 0.35)
    and the hypertrophic flavum's thickness (4.5-7.0 mm, plus a jitter of 0-0.5 mm); the grade is set after
    rendering, from what they leave (spinedet.synth.stenosis)."""
    return {"severity": severity, "sac_ap_fraction": 0.6 - 0.25 * severity,
            "flavum_mm": 4.5 + 2.5 * severity + flavum_jitter_mm}


def age_factor(age: float) -> float:
    """Risk multiplier rising with age: about 0.1 at 25 years, 1 at 65."""
    return float(np.clip((age - 20.0) / 45.0, 0.05, 1.3))


def sample_lesions(rng: np.random.Generator, region: str, age: float, healthy_p: float = 0.15) -> list[Lesion]:
    """The patient's findings, at most one of each class per level; some patients are healthy."""
    if rng.random() < healthy_p:
        return []
    risk = age_factor(age)
    lesions = []
    for level in REGION_LEVELS[region]:
        p = LEVEL_WEIGHT[level] * risk
        degenerated = rng.random() < 0.35 * p
        if degenerated:
            params = {"height_loss": float(rng.uniform(0.2, 0.5)), "nucleus_t2_scale": float(rng.uniform(0.3, 0.55))}
            grade = pfirrmann_grade(**params)
            lesions.append(Lesion("degenerated_disc", level, f"Pfirrmann {grade}", params, grade))
        r = rng.random()
        if r < (0.4 if degenerated else 0.25) * p:
            lesions.append(_herniation(rng, level, region))
        elif r < (0.65 if degenerated else 0.4) * p:
            lesions.append(Lesion("bulge", level, "diffuse", {"extent_mm": float(rng.uniform(2.0, 4.0))}))
        if rng.random() < (0.3 if degenerated else 0.12) * p:
            params = stenosis_params(float(rng.uniform(0.0, 1.0)), float(rng.uniform(0.0, 0.5)))
            lesions.append(Lesion("stenosis", level, "flavum and facet hypertrophy", params))
    return lesions


def _herniation(rng: np.random.Generator, level: str, region: str) -> Lesion:
    site = str(rng.choice(HERNIATION_SITES, p=HERNIATION_SITE_P))
    extrusion = rng.random() < 0.3
    scale = 1.0 if region == "lumbar" else 0.7
    depth = rng.uniform(6.0, 12.0) if extrusion else rng.uniform(3.0, 7.0)
    grade = "extrusion" if extrusion else "protrusion"
    return Lesion("herniation", level, f"{grade}, {site}", {
        "site": site,
        "depth_mm": float(depth * scale),
        "width_mm": float(rng.uniform(8.0, 16.0) * scale),
        "migration_mm": float(rng.uniform(3.0, 9.0) * scale * rng.choice([-1, 1])) if extrusion else 0.0,
        "extra_height_mm": float(rng.uniform(3.0, 8.0) * scale) if extrusion else 0.0,
    }, grade)
