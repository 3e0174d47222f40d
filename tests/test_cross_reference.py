"""Axial levels named from the patient's sagittal scan: the block shift the nearby discs vote for, and what is left
alone (no vote, too few sagittal discs, other patients, other views)."""

import numpy as np

from spinedet.infer.cross_reference import level_shift, name_axial_from_sagittal, named_from_sagittal

# Lumbar discs 36 mm apart along an oblique line (the spine leans forward 20 degrees).
LEVELS = ["T12/L1", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
AXIS = np.array([0.0, np.sin(np.deg2rad(20)), -np.cos(np.deg2rad(20))])  # head to foot
CENTRES = {level: np.array([4.0, -20.0, 100.0]) + 36.0 * k * AXIS for k, level in enumerate(LEVELS)}


def disc(level, centre, half=(20.0, 15.0, 4.0)):
    c, h = np.asarray(centre, float), np.asarray(half)
    return {"level": level, "score": 0.9, "box_lps": [*(c - h), *(c + h)]}


def sagittal_discs():
    return [disc(level, c) for level, c in CENTRES.items()]


def test_axial_names_one_level_too_high_are_moved_down_as_a_block():
    moved = np.array([1.5, -2.0, 2.5])  # the two series' disc centres differ by a few mm
    axial = [disc("L3/L4", CENTRES["L4/L5"] + moved), disc("L4/L5", CENTRES["L5/S1"] + moved)]
    assert level_shift(axial, sagittal_discs()) == 1
    finding = {"class": "stenosis", "level": "L4/L5", "score": 0.8, "box_lps": axial[1]["box_lps"]}
    findings, discs, source = named_from_sagittal([finding], axial, [{"id": "sag", "discs": sagittal_discs()}])
    assert [d["level"] for d in discs] == ["L4/L5", "L5/S1"] and findings[0]["level"] == "L5/S1"
    assert source == {"scan": "sag", "shift": 1}
    assert axial[0]["level"] == "L3/L4"  # the inputs are not changed


def test_a_name_moved_past_the_last_level_becomes_none():
    axial = [disc("L4/L5", CENTRES["L5/S1"]), disc("L5/S1", CENTRES["L5/S1"] + 36.0 * AXIS)]
    findings, discs, _ = named_from_sagittal([], axial, [{"id": "sag", "discs": sagittal_discs()}])
    assert [d["level"] for d in discs] == ["L5/S1", None]


def test_the_closer_voters_win_a_tie():
    # One axial disc sits 3 mm from L4/L5 (shift 0), the other 12 mm from L5/S1 but named two levels off (shift 2).
    axial = [disc("L4/L5", CENTRES["L4/L5"] + [0, 0, 3.0]), disc("T12/L1", CENTRES["L5/S1"] + [0, 12.0, 0])]
    assert level_shift(axial, sagittal_discs()) == 0


def test_no_vote_leaves_the_axial_names():
    far = [disc("L4/L5", CENTRES["L4/L5"] + [0.0, 0.0, 18.5])]  # past half the 36 mm spacing
    assert level_shift(far, sagittal_discs()) is None
    assert level_shift([disc("L4/L5", CENTRES["L5/S1"])], sagittal_discs()[:1]) is None  # spacing unknown
    assert named_from_sagittal([], far, []) == ([], far, None)


def test_only_axial_records_of_the_same_patient_are_renamed():
    sagittal = {"id": "p1-sag", "patient": "p1", "view": "sagittal", "findings": [], "discs": sagittal_discs()}
    axial_p1 = {"id": "p1-ax", "patient": "p1", "view": "axial", "findings": [],
                "discs": [disc("L3/L4", CENTRES["L4/L5"])]}
    axial_p2 = {**axial_p1, "id": "p2-ax", "patient": "p2"}
    out = name_axial_from_sagittal([sagittal, axial_p1, axial_p2], [sagittal])
    assert out[0] is sagittal and out[2] is axial_p2
    assert out[1]["discs"][0]["level"] == "L4/L5" and out[1]["levels_from"] == {"scan": "p1-sag", "shift": 1}
