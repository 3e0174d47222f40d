"""Findings joined per level across views: the centre-distance rule, one-view findings, axial coverage."""

import numpy as np

from spinedet.report.coverage import Extent
from spinedet.report.join import IMAGED, JOIN_DISTANCE_MM, NOT_IMAGED, join_findings, patient_entries


def _box(x, y, z, half=4.0):
    return [x - half, y - half, z - half, x + half, y + half, z + half]


def _record(sid, view, findings, discs):
    return {"id": sid, "patient": "p1", "view": view,
            "findings": [{"class": c, "level": lv, "score": s, "box_lps": b} for c, lv, s, b in findings],
            "discs": [{"level": lv, "score": 0.9, "box_lps": b} for lv, b in discs]}


# Discs 35 mm apart, head (z=+70) to foot; the axial stack covers z in [-30, 10] mm only.
DISC_Z = {"L1/L2": 70.0, "L2/L3": 35.0, "L3/L4": 0.0, "L4/L5": -35.0}
SAG_AFFINE = np.array([[4.0, 0.0, 0.0, -20.0], [0.0, 0.0, 1.0, -60.0], [0.0, -1.0, 0.0, 100.0], [0, 0, 0, 1.0]])
SAG_EXTENT = Extent(SAG_AFFINE, (10, 200, 120))  # slices go left, rows inferior from z=100, columns posterior
AX_AFFINE = np.array([[0.0, 0.0, 1.0, -40.0], [0.0, 1.0, 0.0, -40.0], [-4.0, 0.0, 0.0, 10.0], [0, 0, 0, 1.0]])
AX_EXTENT = Extent(AX_AFFINE, (11, 80, 80))  # slices at z = 10, 6, ..., -30 (each 4 mm thick)


def _patient():
    sag = _record("sag", "sagittal",
                  [("herniation", "L3/L4", 0.9, _box(3, 10, 0)),
                   ("herniation", "L4/L5", 0.6, _box(-12, 10, -35)),
                   ("stenosis", "L1/L2", 0.7, _box(0, 20, 70))],
                  [(lv, _box(0, 0, z, 10)) for lv, z in DISC_Z.items() if lv != "L2/L3"])
    ax = _record("ax", "axial",
                 [("herniation", "L3/L4", 0.8, _box(0, 12, 2)),  # 4.1 mm from the sagittal one: joined
                  ("herniation", "L4/L5", 0.7, _box(14, 10, -33)),  # other side of the level: 26 mm, not joined
                  ("bulge", "L3/L4", 0.5, _box(0, 5, 0))],
                 [("L3/L4", _box(0, 0, 0, 10))])
    return patient_entries([sag, ax], {"sag": SAG_EXTENT, "ax": AX_EXTENT}, {"sag": 0.5, "ax": 0.75})[0]


def test_levels_span_every_level_with_view_status():
    entry = _patient()
    assert [lv["level"] for lv in entry["levels"]] == ["L1/L2", "L2/L3", "L3/L4", "L4/L5"]  # L2/L3: no disc found
    assert entry["scans"] == {"sagittal": ["sag"], "axial": ["ax"]}
    status = {lv["level"]: lv["views"] for lv in entry["levels"]}
    assert status["L1/L2"] == {"sagittal": IMAGED, "axial": NOT_IMAGED}  # z=70 is above the axial stack
    assert status["L2/L3"] == {"sagittal": IMAGED, "axial": NOT_IMAGED}  # interpolated to z=35, inside the sagittal
    assert status["L3/L4"]["axial"] == IMAGED  # its disc lies inside the stack
    assert status["L4/L5"]["axial"] == IMAGED  # disc at z=-35 is below the stack, but the axial view found it there


def test_same_class_and_level_within_distance_join():
    levels = {lv["level"]: lv["findings"] for lv in _patient()["levels"]}
    l34 = {f["class"]: f for f in levels["L3/L4"]}
    assert l34["herniation"]["views"] == ["sagittal", "axial"]
    assert l34["herniation"]["score"] == 0.9 and l34["herniation"]["axial"]["score"] == 0.8
    assert l34["herniation"]["centre_distance_mm"] == round(float(np.linalg.norm([3, -2, -2])), 2)
    assert (l34["herniation"]["sagittal"]["scan"], l34["herniation"]["axial"]["finding"]) == ("sag", 0)
    assert l34["bulge"]["views"] == ["axial"]
    assert (l34["herniation"]["likelihood"], l34["bulge"]["likelihood"]) == ("probable", "possible")  # 0.5 < 0.75
    assert sorted(f["views"][0] for f in levels["L4/L5"]) == ["axial", "sagittal"]  # too far apart: two findings
    assert [f["views"] for f in levels["L1/L2"]] == [["sagittal"]] and levels["L2/L3"] == []


def test_pairs_closest_first_one_to_one():
    def rec(view, xs):
        return _record(view, view, [("herniation", "L4/L5", 0.5, _box(x, 0, 0)) for x in xs], [])

    sag, ax = rec("sagittal", [0.0, 9.0]), rec("axial", [8.0])
    joined = join_findings([(sag, 0), (sag, 1)], [(ax, 0)])
    assert [(j["views"], j.get("sagittal", {}).get("finding")) for j in joined] == [
        (["sagittal", "axial"], 1), (["sagittal"], 0)]
    far = rec("axial", [JOIN_DISTANCE_MM + 0.01])
    assert [j["views"] for j in join_findings([(sag, 0)], [(far, 0)])] == [["sagittal"], ["axial"]]


def test_one_view_patient_and_unlevelled_findings():
    sag = _record("s", "sagittal", [("bulge", None, 0.4, _box(0, 0, 0))], [("L4/L5", _box(0, 0, -35, 10)),
                                                                          ("L5/S1", _box(0, 0, -70, 10))])
    entry = patient_entries([sag], {"s": SAG_EXTENT}, {"s": 0.5})[0]
    assert [lv["level"] for lv in entry["levels"]] == ["L4/L5", "L5/S1"]
    assert all(lv["views"] == {"sagittal": IMAGED} and lv["findings"] == [] for lv in entry["levels"])
    assert [(f["class"], f["views"]) for f in entry["unlevelled_findings"]] == [("bulge", ["sagittal"])]


def test_extent_covers_voxel_edges():
    assert AX_EXTENT.covers([0.0, 0.0, 11.9]) and not AX_EXTENT.covers([0.0, 0.0, 12.1])
    assert AX_EXTENT.covers([0.0, 0.0, -31.9]) and not AX_EXTENT.covers([0.0, 0.0, -32.1])
    assert not AX_EXTENT.covers([0.0, -41.0, 0.0])  # in front of the first row (row 0 spans y -40.5 .. -39.5)
