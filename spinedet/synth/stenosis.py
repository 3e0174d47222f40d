"""The grade of a rendered canal stenosis from what it leaves: the dural sac's AP extent at the disc against the
same patient's without any lesion (the RSNA 2024 readers graded by how much of the sac is left)."""

from __future__ import annotations

import numpy as np

from spinedet.synth import tissues as T
from spinedet.synth.anatomy import Spine
from spinedet.synth.lesions import Lesion, stenosis_grade
from spinedet.synth.structures import Model, build_model

SAC_CONTENTS = (T.CSF, T.CORD, T.ROOT)
STEP_MM = 0.1


def sac_ap_mm(model: Model, disc) -> float:
    """AP extent (mm) of the sac's contents (CSF, cord, roots) on the line from the disc's centre backwards."""
    t = np.arange(0.0, disc.depth_mm / 2 + 30.0, STEP_MM)
    x, y, z = disc.frame.world(t, np.zeros_like(t), np.zeros_like(t)).T
    label = np.zeros(t.size, np.int32)
    for code, solid in model.paint:
        label[solid.inside(x, y, z)] = code
    return float(np.isin(label, SAC_CONTENTS).sum() * STEP_MM)


def grade_stenoses(spine: Spine, found: list[Lesion], body: dict, model: Model) -> None:
    """Set each stenosis's grade and detail from the fraction of the healthy sac AP that its rendering leaves."""
    stenoses = [lesion for lesion in found if lesion.cls == "stenosis"]
    if not stenoses:
        return
    healthy = build_model(spine, [], body)
    for lesion in stenoses:
        disc = next(d for d in spine.discs if d.level == lesion.level)
        fraction = sac_ap_mm(model, disc) / max(sac_ap_mm(healthy, disc), STEP_MM)
        lesion.params["sac_ap_left"] = round(fraction, 3)
        lesion.grade = stenosis_grade(fraction)
        lesion.detail = f"{lesion.grade}, flavum and facet hypertrophy, {fraction:.0%} of the sac's AP left"
