"""Files written as a raw dataset, without the 128-byte preamble, 'DICM' and file meta (older exports), still load."""

import numpy as np
import pydicom
import pytest
from pydicom.filewriter import dcmwrite

from dicom_fixtures import AXIAL_IOP, image_values, tilted, write_series
from spinedet.cli import main
from spinedet.io.load import load_scan


def _strip_preamble(path, implicit_vr: bool) -> None:
    ds = pydicom.dcmread(path)
    del ds.file_meta
    ds.preamble = None
    dcmwrite(path, ds, implicit_vr=implicit_vr, little_endian=True)
    assert path.read_bytes()[128:132] != b"DICM"


@pytest.mark.parametrize("implicit_vr", [True, False])
def test_series_without_preamble_loads_like_the_original(tmp_path, implicit_vr):
    facts = write_series(tmp_path / "plain", image_values(6, 16, 20), iop=tilted(AXIAL_IOP, 9.0, "x"), slopes=[1, 2, 1, 2, 1, 2])
    write_series(tmp_path / "raw", image_values(6, 16, 20), iop=tilted(AXIAL_IOP, 9.0, "x"), slopes=[1, 2, 1, 2, 1, 2],
                 series_uid=facts["series_uid"])
    for path in (tmp_path / "raw").iterdir():
        _strip_preamble(path, implicit_vr)
    plain, raw = load_scan(tmp_path / "plain"), load_scan(tmp_path / "raw")
    assert np.array_equal(raw.array, plain.array)
    assert np.allclose(raw.affine, plain.affine)


def test_non_dicom_files_are_still_skipped_not_forced(tmp_path, capsys):
    write_series(tmp_path / "s", image_values(6, 16, 20))
    (tmp_path / "s" / "notes.txt").write_text("scanned on the new coil\n" * 4)
    (tmp_path / "s" / "blob.bin").write_bytes(bytes(range(256)) * 4)
    assert main(["inspect", str(tmp_path / "s")]) == 0
    err = capsys.readouterr().err
    assert "skipped 2 file(s), not DICOM" in err and "blob.bin" in err and "notes.txt" in err
