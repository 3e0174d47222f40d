"""A PACS-style study folder: series grouped, split into stacks, classified, listed, chosen and picked."""

import json

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from dicom_fixtures import AXIAL_IOP, SAGITTAL_IOP, image_values, tilted, write_series
from spinedet.cli import main
from spinedet.errors import InputError
from spinedet.io.dicom import list_series, pick_series
from spinedet.io.load import load_scan

AXIAL_BLOCKS = ((-10.0, 4, 60.0), (0.0, 6, 20.0), (12.0, 5, -20.0))  # (tilt about x in deg, slices, z of origin)


def _write_dicomdir(path):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.FileSetID = "EXPORT"
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    export = root / "DICOM" / "ST000001"
    small = dict(pixel_spacing=(0.7, 0.7))
    loc_uid = generate_uid()
    for k, (iop, origin) in enumerate(((SAGITTAL_IOP, (0, -60, 80)), (AXIAL_IOP, (-60, -60, 0)),
                                       (((1.0, 0, 0), (0, 0, -1.0)), (-60, 0, 80)))):
        write_series(export / "SE000001", image_values(1, 16, 20, seed=k), iop=iop, origin=origin, series_uid=loc_uid,
                     description="3-plane loc", series_number=1, prefix=f"L{k}", seed=k, **small)
    sag = dict(iop=tilted(SAGITTAL_IOP, 3.0, "z"), slice_step_mm=4.0, **small)
    write_series(export / "SE000002", image_values(10, 16, 20), description="T1_TSE_SAG", echo_time_ms=10,
                 repetition_time_ms=500, series_number=2, **sag)
    t2 = write_series(export / "SE000003", image_values(10, 16, 20), description="T2_TSE_SAG", series_number=3, **sag)
    write_series(export / "SE000004", image_values(10, 16, 20), description="STIR_SAG", series_number=4, **sag)
    write_series(export / "SE000005", image_values(12, 16, 20), description="t2_tse_fs_sag", series_number=5, **sag)
    axial_uid = generate_uid()
    for k, (degrees, n, z) in enumerate(AXIAL_BLOCKS):
        write_series(export / "SE000006", image_values(n, 16, 20, seed=k), iop=tilted(AXIAL_IOP, degrees, "x"),
                     origin=(-7.0, -7.0, z), slice_step_mm=3.0, series_uid=axial_uid, description="T2_TSE_TRA",
                     series_number=6, prefix=f"B{k}", seed=10 + k, **small)
    write_series(root / "extra" / "SE7", image_values(3, 16, 20), iop=AXIAL_IOP, description="", echo_time_ms=110,
                 repetition_time_ms=4000, series_number=7, body_part="", **small)
    _write_dicomdir(root / "DICOMDIR")
    (root / "README.TXT").write_text("exported by a PACS\n")
    return {"root": root, "t2_uid": t2["series_uid"], "axial_uid": axial_uid, "loc_uid": loc_uid}


def test_study_is_grouped_into_series_stacks(study, capsys):
    series = list_series(study["root"])
    err = capsys.readouterr().err
    assert "README.TXT" in err and "not DICOM" in err and "DICOMDIR" not in err
    assert len(series) == 3 + 4 + 3 + 1
    by_number = {}
    for s in series:
        by_number.setdefault(int(s.header.SeriesNumber), []).append(s)
    assert [s.stack_count for s in by_number[1]] == [3, 3, 3]
    assert all(s.localiser and "2D" in s.problem for s in by_number[1])
    assert [s.weighting[0] for n in (2, 3, 4, 5, 7) for s in by_number[n]] == ["t1", "t2", "stir", "t2", "t2"]
    assert "TE 110" in by_number[7][0].weighting[1]
    assert [s.shape[0] for s in by_number[6]] == [4, 6, 5]  # superior block first
    assert [s.view for s in by_number[6]] == ["axial"] * 3
    assert [round(s.view_and_tilt[1]) for s in by_number[6]] == [10, 0, 12]
    assert by_number[3][0].region[0] == "lumbar" and by_number[7][0].region[0] is None


def test_pick_prefers_plain_t2_and_the_largest_axial_block(study):
    series = list_series(study["root"])
    sagittal, reason = pick_series(series, "sagittal")
    assert sagittal.series_uid == study["t2_uid"]
    assert "preferred" in reason and "FS" in reason and "sagittal t1" in reason and "sagittal stir" in reason
    axial, reason = pick_series(series, "axial")
    assert axial.key == f"{study['axial_uid']}#2" and axial.shape[0] == 6
    assert pick_series(series, "coronal")[0] is None


def test_inspect_study_lists_series_and_explains_the_pick(study, capsys):
    assert main(["inspect", "--json", str(study["root"])]) == 0
    infos = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(infos) == 11 and [i["index"] for i in infos] == list(range(11))
    picked = {i["picked_for"]: i for i in infos if "picked_for" in i}
    assert picked["sagittal"]["series_uid"] == study["t2_uid"]
    assert picked["sagittal"]["files_folder"] == str(study["root"] / "DICOM" / "ST000001" / "SE000003")
    assert picked["axial"]["series_key"] == f"{study['axial_uid']}#2"
    for info in infos:
        assert {"path", "series_uid", "view", "tilt_deg", "shape", "spacing_mm", "affine", "description"} <= set(info)
    assert main(["inspect", str(study["root"])]) == 0
    text = capsys.readouterr().out
    assert "picked for detection:" in text and "UNUSABLE" in text


def test_choosing_a_series_by_uid_key_or_index(study, capsys):
    series = list_series(study["root"])
    index = next(i for i, s in enumerate(series) if s.series_uid == study["t2_uid"])
    by_uid = load_scan(study["root"], series=study["t2_uid"])
    by_index = load_scan(study["root"], series=str(index))
    assert np.array_equal(by_uid.array, by_index.array) and by_uid.view == "sagittal" and by_uid.region == "lumbar"
    block = load_scan(study["root"], series=f"{study['axial_uid']}#3")
    assert block.shape[0] == 5 and block.view == "axial" and block.tilt_deg == pytest.approx(12.0, abs=1e-3)
    assert main(["inspect", "--json", "--series", f"{study['axial_uid']}#1", str(study["root"])]) == 0
    assert json.loads(capsys.readouterr().out)["shape"][0] == 4


@pytest.mark.parametrize("selector, expected", [
    (None, "choose one with --series"), ("99", "no series index 99"), ("1.2.3.4", "no series 1.2.3.4"),
])
def test_ambiguous_or_unknown_choice_lists_the_choices(study, selector, expected):
    with pytest.raises(InputError) as error:
        load_scan(study["root"], series=selector)
    message = str(error.value)
    assert expected in message and "T2_TSE_SAG" in message and "\n" not in message


def test_mixed_orientation_series_needs_a_stack_choice(study, capsys):
    assert main(["inspect", "--series", study["axial_uid"], str(study["root"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "3 stacks of different orientation" in err and f"{study['axial_uid']}#2" in err
    assert main(["inspect", "--series", f"{study['loc_uid']}#1", str(study["root"])]) == 2
    assert "a single image (2D)" in capsys.readouterr().err


def test_two_echoes_in_one_series_become_two_stacks(tmp_path):
    uid = generate_uid()
    for echo, (te, seed) in enumerate(((20.0, 1), (100.0, 2)), start=1):
        facts = write_series(tmp_path / "s", image_values(5, 16, 20, seed=seed), series_uid=uid, description="",
                             echo_time_ms=te, prefix=f"e{echo}", seed=seed)
        for path in facts["files"]:
            ds = pydicom.dcmread(path)
            ds.EchoNumbers = echo
            ds.save_as(path, enforce_file_format=True)
    series = list_series(tmp_path / "s")
    assert [s.key for s in series] == [f"{uid}#1", f"{uid}#2"]
    assert sorted(s.weighting[0] for s in series) == ["pd", "t2"]
    assert pick_series(series, "sagittal")[0].header.EchoTime == 100.0


def test_parallel_axial_blocks_split_at_large_gaps_but_sagittal_gaps_stay_errors(tmp_path):
    uid = generate_uid()
    offsets = [0, 3, 6, 9, 35, 38, 41, 70, 73, 76, 79, 82]  # three parallel per-disc blocks of 4, 3 and 5 slices
    write_series(tmp_path / "ax", image_values(12, 16, 20), iop=tilted(AXIAL_IOP, 8.0, "x"), offsets_mm=offsets,
                 series_uid=uid, description="T2 ax blocks")
    blocks = list_series(tmp_path / "ax")
    assert [s.key for s in blocks] == [f"{uid}#{k}" for k in (1, 2, 3)]
    assert [s.shape[0] for s in blocks] == [5, 3, 4] and all(s.problem is None for s in blocks)
    assert pick_series(blocks, "axial")[0] is blocks[0]
    write_series(tmp_path / "sag", image_values(8, 16, 20), iop=SAGITTAL_IOP, offsets_mm=[0, 4, 8, 12, 32, 36, 40, 44])
    (sagittal,) = list_series(tmp_path / "sag")
    assert "missing slice(s): a gap of 20.000 mm" in sagittal.problem
