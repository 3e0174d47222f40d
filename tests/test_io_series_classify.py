"""Series weighting, localiser, fat suppression and region from DICOM headers."""

import pytest
from pydicom.dataset import Dataset

from spinedet.io.series_classify import is_fat_suppressed, is_localiser, region_of, weighting_of


def _ds(**fields) -> Dataset:
    ds = Dataset()
    for keyword, value in fields.items():
        setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize("description, expected", [
    ("T2_TSE_SAG", "t2"), ("sag T2W", "t2"), ("t2_tse_tra_384", "t2"), ("AX T2 FRFSE", "t2"),
    ("T1_TSE_SAG", "t1"), ("Sag T1 FLAIR", "flair"), ("STIR_SAG", "stir"), ("t2_tirm_sag", "stir"),
    ("T2* MEDIC ax", "t2star"), ("PD_TSE_SAG", "pd"), ("HASTE myelo", "t2"), ("t12 ref", "unknown"),
])
def test_weighting_from_the_description(description, expected):
    assert weighting_of(_ds(SeriesDescription=description))[0] == expected


@pytest.mark.parametrize("fields, expected", [
    (dict(EchoTime=102, RepetitionTime=3800, ScanningSequence="SE"), "t2"),
    (dict(EchoTime=9, RepetitionTime=550, ScanningSequence="SE"), "t1"),
    (dict(EchoTime=25, RepetitionTime=3000, ScanningSequence="SE"), "pd"),
    (dict(EchoTime=60, RepetitionTime=5000, InversionTime=150, ScanningSequence=["SE", "IR"]), "stir"),
    (dict(EchoTime=20, RepetitionTime=600, ScanningSequence="GR"), "t2star"),
    (dict(EchoTime=50, RepetitionTime=1200, ScanningSequence="SE"), "unknown"),
    (dict(), "unknown"),
])
def test_weighting_from_timing_when_the_description_says_nothing(fields, expected):
    weighting, reason = weighting_of(_ds(SeriesDescription="series 5", **fields))
    assert weighting == expected and reason


def test_localiser_fat_suppression_and_region():
    assert is_localiser(_ds(SeriesDescription="3-plane loc"))
    assert is_localiser(_ds(SeriesDescription="x", ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"]))
    assert not is_localiser(_ds(SeriesDescription="T2_TSE_SAG"))
    assert is_fat_suppressed(_ds(SeriesDescription="t2_tse_fs_sag")) and is_fat_suppressed(_ds(SeriesDescription="T2 SPAIR"))
    assert not is_fat_suppressed(_ds(SeriesDescription="T2_TSE_SAG"))
    assert region_of(_ds(BodyPartExamined="LSPINE"))[0] == "lumbar"
    assert region_of(_ds(BodyPartExamined="CSPINE", SeriesDescription="lumbar"))[0] == "cervical"
    assert region_of(_ds(SeriesDescription="C-Spine T2 sag"))[0] == "cervical"
    assert region_of(_ds(StudyDescription="MRT LWS"))[0] == "lumbar"
    assert region_of(_ds(SeriesDescription="T2 sag"))[0] is None
