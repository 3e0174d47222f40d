"""The level design applied to one Scan: the finder finds and names the discs, the judge scores every (disc, class)
from a crop along that disc; boxes go crop voxel -> LPS through the crop's affine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from spinedet.data.crops import boxes_through
from spinedet.data.grades import GRADES
from spinedet.data.level_crops import CropVolume, DiscCrops, disc_crops, resampled_affine
from spinedet.data.levels import ALL_LEVELS
from spinedet.data.preprocess import normalise, resample, resampled_shape
from spinedet.infer.disc_peaks import DiscCandidates, disc_peaks
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


def padded_shape(shape, multiple) -> tuple[int, ...]:
    """`shape` rounded up to a multiple of `multiple` voxels along each axis."""
    return tuple(int(n) for n in -(-np.asarray(shape) // np.asarray(multiple)) * np.asarray(multiple))


def padded(array: np.ndarray, multiple) -> np.ndarray:
    """`array` zero-padded at its far ends to a multiple of `multiple` voxels along each axis."""
    return np.pad(array, [(0, t - n) for t, n in zip(padded_shape(array.shape, multiple), array.shape)])


@dataclass
class FinderInput:
    """A scan at the finder's spacing, normalised and zero-padded to the finder's token stride, with the affine of
    its voxels (resampled grid -> LPS)."""

    array: np.ndarray
    affine: np.ndarray


def finder_input(model, meta: dict, scan: Scan, region: str) -> FinderInput:
    section = input_section(meta, region, scan.view)["finder"]
    coarse, factor = resample(scan.array, scan.spacing_mm, section["spacing_mm"])
    return FinderInput(padded(normalise(coarse), model.finder.total_stride), resampled_affine(scan.affine, factor))


def padded_finder_shape(model, meta: dict, scan: Scan, region: str) -> tuple[int, ...]:
    """The shape of `finder_input`'s array, from the scan's shape and spacing alone."""
    spacing_mm = input_section(meta, region, scan.view)["finder"]["spacing_mm"]
    return padded_shape(resampled_shape(scan.array.shape, scan.spacing_mm, spacing_mm), model.finder.total_stride)


def find_discs_batch(model, meta: dict, scans: list[Scan], regions: list[str]) -> list[list[dict]]:
    """Named discs of each scan (scans of one view and region whose finder inputs have one shape), through the
    finder as one batch: each comes out as it would alone, to float rounding. Scans of different shapes are not
    batched: zero-padded to one shape, a scan's convolution features near its far border spill into the padding
    and come back, which moved finding scores by up to 0.96 and changed level names even with the transformer's
    padded tokens masked (docs/benchmarks.md, "Batched prediction (issue 13)"); `Predictor.batch_key` keeps them
    apart."""
    inputs = [finder_input(model, meta, scan, region) for scan, region in zip(scans, regions)]
    if len({i.array.shape for i in inputs}) > 1:
        raise ValueError(f"finder inputs of different shapes cannot share a batch: {[i.array.shape for i in inputs]}")
    out = model.finder(torch.from_numpy(np.stack([i.array for i in inputs]))[:, None])
    return [named_discs(disc_peaks({name: maps[n:n + 1] for name, maps in out.items()}, model.finder.out_stride,
                                   PEAK_FLOOR, MAX_PEAKS), inputs[n].affine, scan, region)
            for n, (scan, region) in enumerate(zip(scans, regions))]


def find_discs(model, meta: dict, scan: Scan, region: str) -> list[dict]:
    """Named discs of one scan, head to foot: level, score, centre_lps, box_lps, box_voxel (scan canonical voxels)."""
    return find_discs_batch(model, meta, [scan], [region])[0]


def named_discs(candidates: DiscCandidates, coarse_affine: np.ndarray, scan: Scan, region: str) -> list[dict]:
    """The candidates (in finder input voxels) that level naming keeps, head to foot, with their level."""
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


def scan_crops(meta: dict, scan: Scan, region: str, discs: list[dict]) -> DiscCrops:
    """The judge's crops of a scan's discs, at the crop spacing, oriented along each disc."""
    crop = input_section(meta, region, scan.view)["crop"]
    fine, factor = resample(scan.array, scan.spacing_mm, crop["spacing_mm"])
    volume = CropVolume(normalise(fine), resampled_affine(scan.affine, factor), scan.view)
    return disc_crops(volume, np.array([d["centre_lps"] for d in discs]), crop)


def judge_batch(model, crop_sets: list[DiscCrops], discs_per_scan: list[list[dict]]) -> dict:
    """The judge's outputs on the crops of several scans at once (B, K, ...): each scan's crops padded to the
    longest list with zero crops that its `valid` mask leaves out of the judge's attention."""
    most = max(len(discs) for discs in discs_per_scan)
    crops = torch.stack([torch.cat([c.crops, c.crops.new_zeros(most - len(c.crops), *c.crops.shape[1:])])
                         for c in crop_sets])
    levels = torch.tensor([[ALL_LEVELS.index(d["level"]) for d in discs] + [0] * (most - len(discs))
                           for discs in discs_per_scan])
    valid = torch.tensor([[True] * len(discs) + [False] * (most - len(discs)) for discs in discs_per_scan])
    return model.judge(crops, levels, valid)


def scan_findings(meta: dict, out: dict, item: int, made: DiscCrops, scan: Scan, region: str,
                  discs: list[dict]) -> list[dict]:
    """Every (disc, disease class) of batch item `item` of the judge's outputs: class, level, score, box_lps,
    box_voxel, and with a grade head grade, grade_probability and grade_probabilities (given the finding)."""
    crop = input_section(meta, region, scan.view)["crop"]
    count = len(discs)
    probs = out["logits"][item, :count].float().sigmoid().numpy()
    voxel = centre_size_to_voxel(out["boxes"][item, :count].float(), crop["shape"])
    affines = torch.from_numpy(made.crop_to_world).float()
    world = boxes_through(voxel, affines).numpy()
    in_scan = boxes_through(voxel, torch.from_numpy(np.linalg.inv(scan.affine) @ made.crop_to_world).float()).numpy()
    classes = [c for c in meta["classes"] if c != "disc"]
    grades = out.get("grade_logits")
    return [{"class": name, "level": disc["level"], "score": float(probs[k, c]), "box_lps": world[k, c],
             "box_voxel": in_scan[k, c], **(grade_fields(name, grades[item, k, c]) if grades is not None else {})}
            for k, disc in enumerate(discs) for c, name in enumerate(classes)]


def judge_discs_batch(model, meta: dict, scans: list[Scan], regions: list[str],
                      discs_per_scan: list[list[dict]]) -> list[list[dict]]:
    """Every (disc, disease class) of each scan (`scan_findings`), the crops of all scans through the judge as one
    batch; a scan without discs has no findings."""
    judged = [n for n, discs in enumerate(discs_per_scan) if discs]
    findings: list[list[dict]] = [[] for _ in scans]
    if not judged:
        return findings
    crop_sets = [scan_crops(meta, scans[n], regions[n], discs_per_scan[n]) for n in judged]
    out = judge_batch(model, crop_sets, [discs_per_scan[n] for n in judged])
    for item, (n, made) in enumerate(zip(judged, crop_sets)):
        findings[n] = scan_findings(meta, out, item, made, scans[n], regions[n], discs_per_scan[n])
    return findings


def judge_discs(model, meta: dict, scan: Scan, region: str, discs: list[dict]) -> list[dict]:
    """Every (disc, disease class) of one scan (`scan_findings`)."""
    return judge_discs_batch(model, meta, [scan], [region], [discs])[0]


@torch.no_grad()
def predict_levels(model, meta: dict, scans: list[Scan], regions: list[str]) -> list[tuple[list[dict], list[dict]]]:
    """(findings, discs) of each scan (scans of one view and region, one batch through the finder and one through
    the judge); every (disc, class) pair is a finding with its score (no floor)."""
    if len({(scan.view, region) for scan, region in zip(scans, regions)}) != 1:
        raise ValueError("a batch of scans must share one view and region")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        with autocast(meta["config"], device):
            discs = find_discs_batch(model, meta, scans, regions)
            findings = judge_discs_batch(model, meta, scans, regions, discs)
    finally:
        model.train(was_training)
    return list(zip(findings, discs))
