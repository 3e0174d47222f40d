"""Disc naming along the spine and level assignment of findings."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spinedet.infer.levels import assign_levels, name_discs, spine_positions_mm


def _disc(z_mm, y_mm=0.0, score=0.9):
    return {"class": "disc", "score": score, "box_lps": [-20, y_mm - 15, z_mm - 4, 20, y_mm + 15, z_mm + 4]}


def _lordotic_discs(n=6):
    # z from the top (T12/L1 region) down; y bulges anteriorly (negative P) in the middle like a lordosis.
    return [_disc(-35.0 * i, y_mm=-15.0 * np.sin(np.pi * i / (n - 1))) for i in range(n)]


def test_lumbar_counts_up_from_most_inferior():
    named = name_discs(_lordotic_discs(6)[::-1], "lumbar")
    assert [d["level"] for d in named] == ["T12/L1", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
    assert [d["box_lps"][2] for d in named] == sorted((d["box_lps"][2] for d in named), reverse=True)


def test_lumbar_many_discs_continue_into_thoracic():
    named = name_discs([_disc(-30.0 * i) for i in range(8)], "lumbar")
    assert [d["level"] for d in named][:2] == ["T10/T11", "T11/T12"]
    assert named[-1]["level"] == "L5/S1"


def test_cervical_counts_down_from_c2c3():
    named = name_discs([_disc(-18.0 * i) for i in range(7)], "cervical")
    assert [d["level"] for d in named] == ["C2/C3", "C3/C4", "C4/C5", "C5/C6", "C6/C7", "C7/T1", "T1/T2"]


def test_unknown_region_rejected():
    try:
        name_discs([_disc(0)], None)
    except ValueError:
        pass
    else:
        raise AssertionError("region None accepted")


def test_finding_behind_disc_gets_its_level():
    discs = name_discs(_lordotic_discs(6), "lumbar")
    l4l5 = next(d for d in discs if d["level"] == "L4/L5")
    b = np.asarray(l4l5["box_lps"])
    # A herniation posterior to the disc (LPS +y), slightly below its centre.
    finding = {"class": "herniation", "score": 0.8, "box_lps": list(b + [0, 20, -3, 0, 20, -3])}
    assert assign_levels([finding], discs)[0]["level"] == "L4/L5"


def test_curved_spine_uses_arc_not_world_z():
    # A spine bending to horizontal: discs at (y, z) along a quarter circle of radius 60 mm.
    angles = np.linspace(0, np.pi / 2, 5)
    discs = [{"class": "disc", "score": 0.9, "box_lps": [-5, 60 * np.sin(a) - 3, 60 * np.cos(a) - 3,
                                                        5, 60 * np.sin(a) + 3, 60 * np.cos(a) + 3]} for a in angles]
    named = name_discs(discs, "cervical")
    # A point just outside the curve near the last (horizontal) disc: world z alone would pick the disc at a
    # different height, arc position picks the last one.
    p = np.array([0.0, 68.0, 2.0])
    centres = np.array([(np.add(d["box_lps"][:3], d["box_lps"][3:])) / 2 for d in named])
    pos = spine_positions_mm(p[None], centres)
    arc = spine_positions_mm(centres, centres)
    assert np.argmin(np.abs(arc - pos[0])) == len(named) - 1
    finding = {"class": "stenosis", "score": 0.5, "box_lps": list(np.concatenate([p - 1, p + 1]))}
    assert assign_levels([finding], named)[0]["level"] == named[-1]["level"]


def test_no_discs_gives_no_level():
    f = {"class": "bulge", "score": 0.5, "box_lps": [0, 0, 0, 1, 1, 1]}
    assert assign_levels([f], []) == [{**f, "level": None}]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-300, 300), min_size=1, max_size=10, unique=True), st.randoms())
def test_naming_ignores_input_order(zs, rnd):
    discs = [_disc(z) for z in zs]
    shuffled = discs[:]
    rnd.shuffle(shuffled)
    for region in ("lumbar", "cervical"):
        assert name_discs(discs, region) == name_discs(shuffled, region)
    lowest = min(zs)
    lumbar = name_discs(discs, "lumbar")
    assert next(d for d in lumbar if d["box_lps"][2] == lowest - 4)["level"] == "L5/S1"
