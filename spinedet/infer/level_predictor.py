"""The level design applied to one Scan: the finder finds and names the discs, the judge scores every (disc, class)
from a crop along that disc; boxes go crop voxel -> LPS through the crop's affine."""

from __future__ import annotations

import numpy as np
import torch

from spinedet.data.crops import boxes_through
from spinedet.data.grades import GRADES
from spinedet.data.level_crops import CropVolume, disc_crops, resampled_affine
from spinedet.data.levels import ALL_LEVELS
from spinedet.data.preprocess import normalise, resample
from spinedet.infer.disc_peaks import disc_peaks
from spinedet.infer.level_names import assign_levels, region_levels
from spinedet.io import geometry
from spinedet.io.scan import Scan
from spinedet.model.box_ops import centre_size_to_voxel
from spinedet.model.ordinal import grade_probabilities
from spinedet.model.precision import autocast

MAX_PEAKS = 24  # more disc candidates than any field of view holds discs
PEAK_FLOOR = 0.1  # heatmap peaks below this are not disc candidates


def input_section(meta: dict, region: str, view: str) -> dict:
    """The run's preprocessing for a scan of `region` and `view`, else for the run's own region."""
    sections = meta["config"]["input"]
    return sections.get(region, sections[meta["region"]])[view]


def padded(array: np.ndarray, multiple) -> np.ndarray:
    """`array` zero-padded at its far ends to a multiple of `multiple` voxels along each axis."""
    target = -(-np.asarray(array.shape) // np.asarray(multiple)) * np.asarray(multiple)
    return np.pad(array, [(0, int(t - n)) for t, n in zip(target, array.shape)])


def find_discs(model, meta: dict, scan: Scan, region: str) -> list[dict]:
    """Named discs, head to foot: level, score, centre_lps, box_lps, box_voxel (scan canonical voxels)."""
    section = input_section(meta, region, scan.view)["finder"]
    coarse, factor = resample(scan.array, scan.spacing_mm, section["spacing_mm"])
    x = torch.from_numpy(padded(normalise(coarse), model.finder.total_stride))[None, None]
    out = model.finder(x)
    candidates = disc_peaks(out, model.finder.out_stride, PEAK_FLOOR, MAX_PEAKS)
    coarse_affine = resampled_affine(scan.affine, factor)
    to_scan = np.linalg.inv(scan.affine) @ coarse_affine
    centres = geometry.voxel_to_world(candidates.centres, coarse_affine).reshape(-1, 3)
    order = np.argsort(-centres[:, 2], kind="stable")  # head to foot (LPS z is superior)
    levels = assign_levels(candidates.scores[order], candidates.level_probs[order], centres[order],
                           region_levels(region))
    discs = []
    for n, level in zip(order, levels):
        if level is None:
            continue
        discs.append({"class": "disc", "level": ALL_LEVELS[level], "score": float(candidates.scores[n]), "centre_lps": centres[n],
                      "box_lps": geometry.box_voxel_to_world(candidates.boxes[n], coarse_affine),
                      "box_voxel": geometry.box_voxel_to_world(candidates.boxes[n], to_scan)})
    return discs


def grade_fields(name: str, grade_logits: torch.Tensor) -> dict:
    """`grade` (the likeliest given the finding), `grade_probability` and `grade_probabilities` of a class's finding
    from its cumulative grade logits (T,); nothing for a class without grades."""
    scale = GRADES.get(name, ())
    if not scale:
        return {}
    probabilities = grade_probabilities(grade_logits.float(), len(scale)).tolist()
    best = max(range(len(scale)), key=probabilities.__getitem__)
    return {"grade": scale[best], "grade_probability": probabilities[best],
            "grade_probabilities": dict(zip(scale, probabilities))}


def judge_discs(model, meta: dict, scan: Scan, region: str, discs: list[dict]) -> list[dict]:
    """Every (disc, disease class): class, level, score, box_lps, box_voxel, and with a grade head grade,
    grade_probability and grade_probabilities (given the finding)."""
    if not discs:
        return []
    crop = input_section(meta, region, scan.view)["crop"]
    fine, factor = resample(scan.array, scan.spacing_mm, crop["spacing_mm"])
    volume = CropVolume(normalise(fine), resampled_affine(scan.affine, factor), scan.view)
    made = disc_crops(volume, np.array([d["centre_lps"] for d in discs]), crop)
    levels = torch.tensor([[ALL_LEVELS.index(d["level"]) for d in discs]])
    out = model.judge(made.crops[None], levels, torch.ones_like(levels, dtype=torch.bool))
    probs = out["logits"][0].float().sigmoid().numpy()
    voxel = centre_size_to_voxel(out["boxes"][0].float(), crop["shape"])
    affines = torch.from_numpy(made.crop_to_world).float()
    world = boxes_through(voxel, affines).numpy()
    in_scan = boxes_through(voxel, torch.from_numpy(np.linalg.inv(scan.affine) @ made.crop_to_world).float()).numpy()
    classes = [c for c in meta["classes"] if c != "disc"]
    grades = out.get("grade_logits")
    return [{"class": name, "level": disc["level"], "score": float(probs[k, c]), "box_lps": world[k, c],
             "box_voxel": in_scan[k, c], **(grade_fields(name, grades[0, k, c]) if grades is not None else {})}
            for k, disc in enumerate(discs) for c, name in enumerate(classes)]


@torch.no_grad()
def predict_levels(model, meta: dict, scan: Scan, region: str) -> tuple[list[dict], list[dict]]:
    """(findings, discs) of one scan; every (disc, class) pair is a finding with its score (no floor)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        with autocast(meta["config"], device):
            discs = find_discs(model, meta, scan, region)
            findings = judge_discs(model, meta, scan, region, discs)
    finally:
        model.train(was_training)
    return findings, discs

