"""A series exported twice into one folder loads once, with a warning naming the copies; distinct instances at one
position remain an error."""

import shutil

import numpy as np

from dicom_fixtures import AXIAL_IOP, image_values, write_series
from spinedet.cli import main
from spinedet.io.load import load_scan


def test_second_export_of_the_same_instances_is_skipped_with_a_warning(tmp_path, capsys):
    facts = write_series(tmp_path / "study" / "export1", image_values(6, 16, 20), iop=AXIAL_IOP)
    shutil.copytree(tmp_path / "study" / "export1", tmp_path / "study" / "export2")
    once = load_scan(tmp_path / "study" / "export1")
    assert main(["inspect", str(tmp_path / "study")]) == 0
    err = capsys.readouterr().err
    assert "skipped 6 file(s), copies of instances" in err and "export2" in err and "export1" not in err
    twice = load_scan(tmp_path / "study")
    assert np.array_equal(twice.array, once.array) and twice.meta["series_uid"] == facts["series_uid"]


def test_distinct_instances_at_the_same_position_are_still_an_error(tmp_path, capsys):
    facts = write_series(tmp_path / "s", image_values(6, 16, 20), iop=AXIAL_IOP)
    write_series(tmp_path / "s", image_values(2, 16, 20, seed=4), iop=AXIAL_IOP, series_uid=facts["series_uid"],
                 prefix="again", seed=9)
    assert main(["inspect", str(tmp_path / "s")]) == 2
    assert "duplicated slice position" in capsys.readouterr().err
