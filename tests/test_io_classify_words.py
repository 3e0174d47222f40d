"""Series names that merely contain a localiser word ("block", "velocity") are not localisers; body-part variants."""

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from dicom_fixtures import AXIAL_IOP, SAGITTAL_IOP, image_values, tilted, write_series
from spinedet.io.dicom import list_series, pick_series
from spinedet.io.series_classify import is_localiser, region_of, weighting_of


def _described(text: str) -> Dataset:
    ds = Dataset()
    ds.SeriesDescription = text
    return ds


@pytest.mark.parametrize("text", ["t2_tse_tra_blocks", "T2 AX 3 BLOCK", "T2 flow velocity", "allocated T2", "T2 clock"])
def test_words_containing_loc_are_not_localisers(text):
    assert not is_localiser(_described(text))


@pytest.mark.parametrize("text", ["3-plane loc", "LOC SAG", "t2_loc", "Localizer", "AAHead_Scout", "SURVEY", "TriPilot"])
def test_localiser_names_are_still_found(text):
    assert is_localiser(_described(text))


@pytest.mark.parametrize("body_part, region", [("LUMBAR SPINE", "lumbar"), ("L-SPINE", "lumbar"),
                                               ("CERVICAL SPINE", "cervical"), ("TSPINE", None),
                                               ("THORACIC SPINE", None)])
def test_body_part_variants(body_part, region):
    ds = Dataset()
    ds.BodyPartExamined = body_part
    assert region_of(ds)[0] == region


def test_per_disc_axial_blocks_named_blocks_are_picked(tmp_path):
    write_series(tmp_path / "sag", image_values(8, 16, 20), iop=SAGITTAL_IOP, description="T2_TSE_SAG", series_number=2)
    uid = generate_uid()
    for k, (degrees, n, z) in enumerate(((-10.0, 4, 60.0), (0.0, 6, 20.0), (12.0, 5, -20.0))):
        write_series(tmp_path / "ax", image_values(n, 16, 20, seed=k), iop=tilted(AXIAL_IOP, degrees, "x"),
                     origin=(-7.0, -7.0, z), slice_step_mm=3.0, series_uid=uid, description="t2_tse_tra_blocks",
                     series_number=5, prefix=f"B{k}", seed=10 + k)
    series = list_series(tmp_path)
    best, reason = pick_series(series, "axial")
    assert best is not None and best.series_uid == uid and best.shape[0] == 6, reason
    assert "localiser" not in reason


@pytest.mark.parametrize("description, image_type, expected", [
    ("t2_tse_dixon_sag_F", ["DERIVED", "PRIMARY", "DIXON", "FAT"], "dixon_fat"),
    ("t2_tse_dixon_sag_opp", ["DERIVED", "PRIMARY", "DIXON", "OPP_PHASE"], "dixon_opposed"),
    ("T2 DIXON SAG FAT", None, "dixon_fat"),
    ("t2_tse_dixon_sag_W", ["DERIVED", "PRIMARY", "DIXON", "WATER"], "t2"),
    ("t2_tse_dixon_sag_in", ["DERIVED", "PRIMARY", "DIXON", "IN_PHASE"], "t2"),
    ("T2 SAG FS", None, "t2"),
])
def test_dixon_fat_and_opposed_phase_images_are_not_t2(description, image_type, expected):
    ds = _described(description)
    if image_type:
        ds.ImageType = image_type
    assert weighting_of(ds)[0] == expected
