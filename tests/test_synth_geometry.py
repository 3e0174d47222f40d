"""Synthetic truth geometry: boxes inside their volume, around their voxels, the same in both views, levels in order."""

import numpy as np
import pytest

from spinedet.data.levels import level_index
from spinedet.io.geometry import box_voxel_to_world, box_world_to_voxel, voxel_box_of_mask, voxel_to_world
from spinedet.synth.cohort import patient_rng
from spinedet.synth.patient import make_patient, render_scan
from spinedet.synth.scanner import CENTRES, coarsened
from spinedet.synth.truth import coverage_lps, voxels_with

SUB = 3


def _patients(centre: str, n: int, pixel_mm: float = 1.5):
    profile = coarsened(CENTRES[centre], pixel_mm)
    out = []
    for index in range(1, 40):
        rng = patient_rng(11, centre, index)
        patient = make_patient(f"p{index}", profile, rng)
        if patient.lesions:
            scans = {v: render_scan(patient, v, profile, rng, SUB) for v in ("sagittal", "axial")}
            out.append((patient, scans))
        if len(out) == n:
            return out
    raise AssertionError("no patient with findings")


@pytest.fixture(scope="module", params=["C1", "C4"])
def rendered(request):
    return _patients(request.param, 3)


def _majority_mask(scan, codes):
    hit = np.isin(scan.labels, np.asarray(codes, np.uint8)).reshape(-1, SUB, *scan.labels.shape[1:])
    return hit.mean(axis=1) >= 0.5


def test_finding_boxes_inside_volume_and_around_lesion_voxels(rendered):
    checked = 0
    for patient, scans in rendered:
        codes = {(les.cls, les.level): c for les, _, c in patient.truth_boxes["lesions"]}
        for scan in scans.values():
            shape = np.array(scan.image.shape)
            cover = coverage_lps(scan.stack)
            normal = scan.affine[:3, 0] / np.linalg.norm(scan.affine[:3, 0])
            slack = 0.5 * scan.stack.thickness_mm * np.abs(normal) + 1e-6  # a voxel centre vs its sub-slices
            tilted = np.count_nonzero(np.abs(scan.affine[:3, :3]) > 1e-9) > 3
            for f in scan.findings:
                box = np.asarray(f["box_lps"])
                assert np.all(box[:3] >= cover[:3]) and np.all(box[3:] <= cover[3:]), f
                if not tilted:  # an axis-aligned world box maps exactly into an axis-aligned stack
                    vbox = box_world_to_voxel(box, scan.affine)
                    assert np.all(vbox[:3] >= -0.5 - 1e-6) and np.all(vbox[3:] <= shape - 0.5 + 1e-6), f
                mask = voxels_with(scan.labels, codes[(f["class"], f["level"])], SUB)
                assert mask.any()
                idx = np.argwhere(_majority_mask(scan, codes[(f["class"], f["level"])]))
                if idx.size:
                    centres = voxel_to_world(idx, scan.affine)
                    assert np.all(centres >= box[:3] - slack) and np.all(centres <= box[3:] + slack), f
                    checked += 1
    assert checked > 0


def test_cervical_axial_stack_is_tilted_to_the_discs(rendered):
    for patient, scans in rendered:
        ax = scans["axial"]
        normal = ax.affine[:3, 0] / np.linalg.norm(ax.affine[:3, 0])
        tilt = np.degrees(np.arctan2(normal[1], -normal[2]))
        expected = 0.0
        if patient.spine.region == "cervical":
            discs = [d for d in patient.spine.discs if d.level in ("C3/C4", "C4/C5", "C5/C6", "C6/C7")]
            expected = np.clip(np.degrees(np.mean([np.arctan2(-d.frame.w[1], d.frame.w[2]) for d in discs])), -14.9, 14.9)
        assert abs(tilt - expected) < 0.1


def test_lesion_voxels_agree_between_sagittal_and_axial(rendered):
    compared = 0
    for patient, scans in rendered:
        for lesion, box, codes in patient.truth_boxes["lesions"]:
            boxes = {}
            for view, scan in scans.items():
                mask = voxels_with(scan.labels, codes, SUB)
                inner = mask[1:-1, 1:-1, 1:-1]  # lesions touching a volume edge are clipped, not compared
                if mask.sum() < 20 or inner.sum() != mask.sum():
                    break
                boxes[view] = box_voxel_to_world(voxel_box_of_mask(mask), scan.affine)
            if len(boxes) != 2:
                continue
            slice_mm = max(scans["sagittal"].stack.affine[0, 0], abs(scans["axial"].stack.affine[2, 0]))
            tolerance = slice_mm + 2 * scans["axial"].stack.affine[1, 1]
            assert np.all(np.abs(boxes["sagittal"] - boxes["axial"]) <= tolerance), (lesion, boxes)
            compared += 1
            truth_sag = [f for f in scans["sagittal"].findings if (f["class"], f["level"]) == (lesion.cls, lesion.level)]
            truth_ax = [f for f in scans["axial"].findings if (f["class"], f["level"]) == (lesion.cls, lesion.level)]
            assert np.allclose(truth_sag[0]["box_lps"], truth_ax[0]["box_lps"], atol=tolerance)
    assert compared > 0


def test_disc_levels_run_superior_to_inferior(rendered):
    for _, scans in rendered:
        for scan in scans.values():
            discs = sorted(scan.discs, key=lambda d: level_index(d["level"]))
            z = [0.5 * (d["box_lps"][2] + d["box_lps"][5]) for d in discs]
            assert len(z) >= 2 and all(a > b for a, b in zip(z, z[1:]))
            rows = [box_world_to_voxel(d["box_lps"], scan.affine)[[1, 4]].mean() for d in discs]
            if scan.view == "sagittal":
                assert all(a < b for a, b in zip(rows, rows[1:]))  # canonical rows run superior to inferior
