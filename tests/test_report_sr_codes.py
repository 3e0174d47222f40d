"""The SR's coded concepts and box encoding: levels to SNOMED CT discs, classes to finding types, box <-> faces."""

import numpy as np

from spinedet.data.levels import ALL_LEVELS
from spinedet.report.sr import box_faces, faces_box
from spinedet.report.sr_codes import PRIVATE_SCHEME, finding_type, level_site


def test_levels_are_the_snomed_disc_below_the_upper_vertebra():
    assert (level_site("L4/L5").value, level_site("L4/L5").scheme_designator) == ("84020006", "SCT")
    assert level_site("L5/S1").meaning == "Intervertebral disc structure of fifth lumbar vertebra"
    assert level_site("T12/L1").value == "76206002" and level_site("C5/C6").value == "73959003"
    assert level_site("C2/C3").scheme_designator == PRIVATE_SCHEME  # not in the DICOM code dictionary
    codes = [level_site(level).value for level in ALL_LEVELS]
    assert len(set(codes)) == len(ALL_LEVELS)


def test_finding_types():
    assert finding_type("stenosis").value == "76107001" and finding_type("herniation").scheme_designator == "SCT"
    assert finding_type("bulge").scheme_designator == PRIVATE_SCHEME


def test_box_faces_are_closed_planar_and_give_the_box_back():
    box = [-12.5, 3.25, -180.0, -4.0, 11.0, -166.5]
    faces = box_faces(box)
    assert len(faces) == 6
    for face in faces:
        assert face.shape == (5, 3) and np.array_equal(face[0], face[-1])
        assert np.linalg.matrix_rank(face[1:] - face[0]) == 2  # a rectangle in one plane
    assert faces_box(faces) == box
