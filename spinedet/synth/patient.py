"""One synthetic patient: sample anatomy and findings from its own seed, render its sagittal and axial T2."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinedet.data.levels import ALL_LEVELS
from spinedet.synth import anatomy, lesions, render, stenosis, structures
from spinedet.synth import tissues as T
from spinedet.synth.acquisition import Stack, axial_stack, sagittal_stack
from spinedet.synth.scanner import CentreProfile
from spinedet.synth.truth import scan_truth


@dataclass
class Patient:
    pid: str
    age: float
    spine: anatomy.Spine
    lesions: list
    model: structures.Model
    marrow_t2_scale: float
    truth_boxes: dict


@dataclass
class RenderedScan:
    view: str
    image: np.ndarray  # int16, canonical (slice, row, column)
    affine: np.ndarray
    findings: list
    discs: list
    labels: np.ndarray  # label codes (slices * sub_slices, rows, columns)
    stack: Stack


def make_patient(pid: str, profile: CentreProfile, rng: np.random.Generator) -> Patient:
    """Sample a patient of the centre's age mix; its solids and truth boxes in world space."""
    age = float(np.clip(rng.normal(profile.age_mean, profile.age_sd), 20, 88))
    dims = anatomy.sample_dimensions(rng, profile.region)
    found = lesions.sample_lesions(rng, profile.region, age)
    names = [r[0] for r in dims["vertebrae"]]
    for lesion in found:
        if lesion.cls == "degenerated_disc":
            k = names.index(lesion.level.split("/")[0])
            dims["disc_mm"][k] *= 1.0 - lesion.params["height_loss"]
    spine = anatomy.build_spine(dims, profile.region, np.zeros(3))
    conus = anatomy.disc_of_level(spine, "L1/L2").frame.origin[2] + rng.normal(0, 12) if profile.region == "lumbar" else 0
    body = {"size": dims["size"], "fat_mm": float(rng.uniform(8, 35) if profile.region == "lumbar" else rng.uniform(3, 9)),
            "conus_z_mm": float(conus)}
    model = structures.build_model(spine, found, body)
    stenosis.grade_stenoses(spine, found, body, model)
    boxes = {
        "discs": [(level, solid.tight_box_lps(32), (a, n)) for level, solid, a, n in model.disc_solids
                  if level in ALL_LEVELS],
        "lesions": [(lesion, solid.tight_box_lps(32), codes) for lesion, solid, codes in model.lesion_solids],
    }
    marrow = (0.8 + 0.4 * lesions.age_factor(age) + rng.normal(0, 0.05)) * (1.0 if profile.region == "lumbar" else 0.6)
    return Patient(pid, age, spine, found, model, float(marrow), boxes)


def render_scan(patient: Patient, view: str, profile: CentreProfile, rng: np.random.Generator,
                sub_slices: int) -> RenderedScan:
    """Place the stack, paint, partial-volume average, acquire, and state the truth visible in it."""
    stack = sagittal_stack(patient.spine, profile, rng) if view == "sagittal" else axial_stack(patient.spine, profile, rng)
    labels = render.paint_labels(patient.model, stack, sub_slices)
    lut = render.lookup(patient.model, profile, patient.marrow_t2_scale)
    texture = T.texture_table(patient.model.relaxation)
    pixel_mm = float(np.linalg.norm(stack.affine[:3, 1]))
    field = render.texture_field(rng, stack.shape, pixel_mm)
    streaks = render.fat_streaks(rng, stack.shape, pixel_mm, view)
    ideal = render.ideal_signal(labels, lut, texture, field, streaks, sub_slices)
    image = render.acquire(ideal, stack, profile, rng)
    findings, discs = scan_truth(patient.truth_boxes, labels, stack, sub_slices)
    return RenderedScan(view, image, stack.affine, findings, discs, labels, stack)
