"""`spinedet import rsna2024` on a small RSNA 2024 folder built here in the published layout."""

import json

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from spinedet.cli import main
from spinedet.data.dataset import validate
from spinedet.io.dicom_geometry import pixel_to_lps, plane_axes
from spinedet.io.geometry import box_world_to_voxel, world_to_voxel
from spinedet.io.scan import Scan

FRAME = generate_uid()
IDENTITY = {"PatientName": "Doe^Jane", "PatientID": "MRN-443322", "PatientBirthDate": "19610203"}
SAGITTAL = dict(iop=[0, 1, 0, 0, 0, -1], spacing=0.8, rows=60, cols=40,
                positions=[[x, -20.0, 60.0] for x in range(-16, 17, 4)])  # 9 slices right to left, 4 mm apart
AXIAL = dict(iop=[1, 0, 0, 0, 1, 0], spacing=0.5, rows=60, cols=60,
             positions=[[-15.0, -15.0, z] for z in (20.0, 24.0, 28.0, 32.0)])
TILT = np.radians(10)
TILTED_NORMAL = np.array([0, -np.sin(TILT), np.cos(TILT)])
TWO_STACKS = dict(  # an axial series of two stacks: 3 straight slices, then 3 tilted by 10 degrees
    iops=[[1, 0, 0, 0, 1, 0]] * 3 + [[1, 0, 0, 0, float(np.cos(TILT)), float(np.sin(TILT))]] * 3,
    spacing=0.5, rows=60, cols=60,
    positions=[[-15.0, -15.0, z] for z in (20.0, 24.0, 28.0)]
    + [list(np.array([-15.0, -15.0, 40.0]) + 4 * k * TILTED_NORMAL) for k in range(3)])
LEVEL_COLUMNS = ("l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1")
CONDITION_COLUMNS = ("spinal_canal_stenosis", "left_neural_foraminal_narrowing", "right_neural_foraminal_narrowing",
                     "left_subarticular_stenosis", "right_subarticular_stenosis")
# study 1001's labelled points: (series, instance, condition, level, x, y)
POINTS = [
    ("11", 5, "Spinal Canal Stenosis", "L4/L5", 20.0, 25.0),  # sagittal T2, midline slice
    ("12", 8, "Left Neural Foraminal Narrowing", "L4/L5", 22.0, 30.0),  # sagittal T1, slice at x = +12 (left)
    ("13", 2, "Right Subarticular Stenosis", "L4/L5", 20.0, 30.0),  # axial T2
    ("11", 5, "Spinal Canal Stenosis", "L1/L2", 20.0, 5.0),  # normal/mild: no finding
]


def write_series(folder, geometry, frame=FRAME):
    """One DICOM file per position, named <instance>.dcm, with identifying tags set (they must not leak)."""
    folder.mkdir(parents=True)
    series_uid = generate_uid()
    for number, position in enumerate(geometry["positions"], start=1):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = "MR", series_uid, frame
        for keyword, value in IDENTITY.items():
            setattr(ds, keyword, value)
        ds.InstanceNumber = number
        ds.ImageOrientationPatient = geometry["iops"][number - 1] if "iops" in geometry else geometry["iop"]
        ds.ImagePositionPatient = position
        ds.PixelSpacing = [geometry["spacing"], geometry["spacing"]]
        ds.SliceThickness = 3.5
        ds.Rows, ds.Columns = geometry["rows"], geometry["cols"]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = np.full((ds.Rows, ds.Columns), 100 + number, np.uint16).tobytes()
        ds.save_as(folder / f"{number}.dcm", enforce_file_format=True)


def write_train_csv(path, grades):
    """train.csv with every condition-level column; `grades` maps (condition, level column) -> value per study."""
    columns = [f"{c}_{lv}" for c in CONDITION_COLUMNS for lv in LEVEL_COLUMNS]
    lines = ["study_id," + ",".join(columns)]
    for study, special in grades.items():
        lines.append(study + "," + ",".join(special.get(c, "Normal/Mild") for c in columns))
    path.write_text("\n".join(lines) + "\n")


def build_rsna(root):
    """Study 1001 complete; 1002 with blank and unknown severities; 1003 listed without images; 1004 moderate without a
    point; 1005 an axial series of two stacks; 1006 with every severity blank."""
    images = root / "train_images"
    write_series(images / "1001" / "11", SAGITTAL)
    write_series(images / "1001" / "12", SAGITTAL)
    write_series(images / "1001" / "13", AXIAL)
    write_series(images / "1002" / "21", SAGITTAL)
    write_series(images / "1004" / "41", SAGITTAL)
    write_series(images / "1005" / "51", TWO_STACKS)
    write_series(images / "1006" / "61", SAGITTAL)
    write_train_csv(root / "train.csv", {
        "1001": {"spinal_canal_stenosis_l4_l5": "Moderate", "left_neural_foraminal_narrowing_l4_l5": "Severe",
                 "right_subarticular_stenosis_l4_l5": "Moderate"},
        "1002": {"left_subarticular_stenosis_l4_l5": "", "right_subarticular_stenosis_l4_l5": "Moderate",
                 "spinal_canal_stenosis_l2_l3": "", "spinal_canal_stenosis_l3_l4": "Unknown"},
        "1003": {},
        "1004": {"spinal_canal_stenosis_l2_l3": "Severe"},
        "1005": {"right_subarticular_stenosis_l5_s1": "Moderate"},
        "1006": {f"{c}_{lv}": "" for c in CONDITION_COLUMNS for lv in LEVEL_COLUMNS},
    })
    rows = ["study_id,series_id,instance_number,condition,level,x,y"]
    rows += [f"1001,{s},{n},{c},{lv},{x},{y}" for s, n, c, lv, x, y in POINTS]
    rows += ["1001,11,5,Spinal Canal Widening,L4/L5,1,1", "1001,11,5,Spinal Canal Stenosis,L6/S1,1,1"]
    rows += ["1005,51,5,Right Subarticular Stenosis,L5/S1,30.0,30.0"]
    rows += ["1002,21,5,Right Subarticular Stenosis,L4/L5,20.0,30.0"]
    (root / "train_label_coordinates.csv").write_text("\n".join(rows) + "\n")
    (root / "train_series_descriptions.csv").write_text(
        "study_id,series_id,series_description\n1001,11,Sagittal T2/STIR\n1001,12,Sagittal T1\n1001,13,Axial T2\n"
        "1002,21,Sagittal T2/STIR\n1003,31,Sagittal T2/STIR\n1004,41,Sagittal T2/STIR\n1005,51,Axial T2\n"
        "1006,61,Sagittal T2/STIR\n")


def series_scan(folder):
    """The series as a canonical Scan (array and affine built here from the headers) and its headers by instance."""
    headers = {int(p.stem): pydicom.dcmread(p) for p in folder.glob("*.dcm")}
    numbers = sorted(headers)
    first = headers[numbers[0]]
    along_row, along_column, _ = plane_axes(first)
    row_spacing, column_spacing = (float(v) for v in first.PixelSpacing)
    affine = np.eye(4)
    affine[:3, 0] = along_column * row_spacing
    affine[:3, 1] = along_row * column_spacing
    affine[:3, 2] = np.subtract(headers[numbers[1]].ImagePositionPatient, first.ImagePositionPatient)
    affine[:3, 3] = [float(v) for v in first.ImagePositionPatient]
    array = np.stack([headers[n].pixel_array for n in numbers], axis=-1)
    return Scan.from_array(array, affine, slice_axis=2), headers


def inside(box_lps, point_lps, scan) -> bool:
    box = box_world_to_voxel(box_lps, scan.affine)
    voxel = world_to_voxel(point_lps, scan.affine)
    return bool(np.all(box[:3] < voxel) and np.all(voxel < box[3:]))


@pytest.fixture()
def imported(tmp_path, capsys):
    build_rsna(tmp_path / "rsna")
    assert main(["import", "rsna2024", str(tmp_path / "rsna"), str(tmp_path / "out")]) == 0
    data = json.loads((tmp_path / "out" / "dataset.json").read_text())
    return tmp_path, data, capsys.readouterr()


def test_sagittal_t2_and_axial_t2_series_become_scans(imported):
    tmp_path, data, _ = imported
    assert validate(data, tmp_path / "out") == []
    assert data["classes"] == ["stenosis", "subarticular_stenosis", "foraminal_narrowing"]
    assert [(s["id"], s["view"], s["patient"], s["center"]) for s in data["scans"]] == [
        ("rsna-1001-11", "sagittal", "rsna-1001", "RSNA2024"), ("rsna-1001-13", "axial", "rsna-1001", "RSNA2024"),
        ("rsna-1002-21", "sagittal", "rsna-1002", "RSNA2024")]
    sagittal = data["scans"][0]
    assert "unlabelled" not in sagittal
    assert (tmp_path / "out" / sagittal["image"]).resolve() == (tmp_path / "rsna/train_images/1001/11").resolve()
    assert sorted((f["class"], f.get("side"), f["level"], f["grade"]) for f in sagittal["findings"]) == [
        ("foraminal_narrowing", "left", "L4/L5", "severe"),  # labelled on the T1, inside the T2's slices
        ("stenosis", None, "L4/L5", "moderate"),
        ("subarticular_stenosis", "right", "L4/L5", "moderate"),  # labelled on the axial, inside the sagittal
    ]
    axial = data["scans"][1]
    assert [(f["class"], f["side"]) for f in axial["findings"]] == [("subarticular_stenosis", "right")]


def test_boxes_contain_the_labelled_voxels(imported):
    tmp_path, data, _ = imported
    sagittal, axial, _ = data["scans"]
    scans = {s: series_scan(tmp_path / "rsna/train_images/1001" / s) for s in ("11", "12", "13")}
    for series, number, condition, level, x, y in POINTS[:3]:
        _, headers = scans[series]
        point = pixel_to_lps(headers[number], row=y, column=x)
        name = {"Spinal": "stenosis", "Left N": "foraminal_narrowing", "Right ": "subarticular_stenosis"}[condition[:6]]
        box = next(f["box_lps"] for f in sagittal["findings"] if f["class"] == name)
        assert inside(box, point, scans["11"][0])
    # the labelled voxel itself, in the canonical voxels of its own series
    scan, headers = scans["13"]
    ds = headers[2]
    voxel_world = pixel_to_lps(ds, row=30, column=20)
    assert inside(axial["findings"][0]["box_lps"], voxel_world, scan)
    extent = np.subtract(axial["findings"][0]["box_lps"][3:], axial["findings"][0]["box_lps"][:3])
    assert np.allclose(extent, [10, 10, 10])


def test_bad_studies_are_skipped_one_line_each(imported):
    _, _, captured = imported
    err = captured.err
    assert "study 1002: severity blank or unknown for 3 condition-level(s), e.g. left_subarticular_stenosis L4/L5: " \
        "kept, with those (class, level) pairs listed as unlabelled" in err
    assert "study 1006: skipped: no condition-level has a severity: nothing in it is labelled" in err
    assert "study 1003: skipped: listed in train.csv but" in err
    assert "study 1004: skipped: severe spinal_canal_stenosis at L2/L3 has no labelled point" in err
    assert "train_label_coordinates.csv line 6: skipped: unknown condition 'Spinal Canal Widening'" in err
    assert "train_label_coordinates.csv line 7: skipped: unknown condition 'Spinal Canal Stenosis', level 'L6/S1'" in err
    assert "imported 3 scans of 2 patients" in captured.out and "'studies': 3" in captured.out
    assert "discs 0; unlabelled (class, level) pairs 3; normal/mild (class, level) pairs 36)" in captured.out


def test_blank_severities_are_kept_as_unlabelled_pairs(imported):
    tmp_path, data, _ = imported
    partial = next(s for s in data["scans"] if s["patient"] == "rsna-1002")
    assert partial["unlabelled"] == [{"class": "stenosis", "level": "L2/L3"}, {"class": "stenosis", "level": "L3/L4"},
                                     {"class": "subarticular_stenosis", "level": "L4/L5"}]  # left blank, right graded
    assert [(f["class"], f["side"], f["level"], f["grade"]) for f in partial["findings"]] == [
        ("subarticular_stenosis", "right", "L4/L5", "moderate")]
    assert validate(data, tmp_path / "out") == []
    assert all(s["patient"] != "rsna-1006" for s in data["scans"])


def test_normal_mild_levels_are_graded_pairs_apart_from_unlabelled_ones(imported):
    """Study 1001 grades 15 (class, level) pairs: 3 hold moderate or severe findings (their grade kept), the other 12
    are Normal/Mild; study 1002's Normal/Mild pairs leave out the blank and unknown ones and the graded finding."""
    tmp_path, data, _ = imported
    complete = data["scans"][0]
    assert len(complete["normal_mild"]) == 12
    assert {"class": "stenosis", "level": "L4/L5"} not in complete["normal_mild"]
    assert {"class": "foraminal_narrowing", "level": "L4/L5"} not in complete["normal_mild"]  # left severe, right N/M
    assert {"class": "stenosis", "level": "L5/S1"} in complete["normal_mild"]
    partial = next(s for s in data["scans"] if s["patient"] == "rsna-1002")
    pairs = {(p["class"], p["level"]) for p in partial["normal_mild"]}
    assert len(pairs) == 12 and not pairs & {(u["class"], u["level"]) for u in partial["unlabelled"]}
    assert validate(data, tmp_path / "out") == []


def test_no_patient_identity_leaks_into_outputs(tmp_path, capsys):
    build_rsna(tmp_path / "rsna")
    assert main(["import", "rsna2024", str(tmp_path / "rsna"), str(tmp_path / "out"), "--copy"]) == 0
    data = json.loads((tmp_path / "out" / "dataset.json").read_text())
    assert [s["image"] for s in data["scans"]] == ["images/1001/11", "images/1001/13", "images/1002/21",
                                                   "images/1005/51-1", "images/1005/51-2"]
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(written) == 1 + 9 + 4 + 9 + 6
    for path in written:
        blob = path.read_bytes()
        assert all(value.encode() not in blob for value in IDENTITY.values()), path
    assert pydicom.dcmread(tmp_path / "out/images/1001/13/2.dcm").ImagePositionPatient == AXIAL["positions"][1]


def test_missing_csv_is_reported_and_nothing_written(tmp_path, capsys):
    build_rsna(tmp_path / "rsna")
    (tmp_path / "rsna" / "train_label_coordinates.csv").unlink()
    assert main(["import", "rsna2024", str(tmp_path / "rsna"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "train_label_coordinates.csv: missing" in err and "no scan could be imported" in err
    assert not (tmp_path / "out" / "dataset.json").exists()
    assert main(["import", "rsna2024", str(tmp_path / "absent"), str(tmp_path / "out")]) == 2
    assert "absent: does not exist" in capsys.readouterr().err


def test_imported_series_load_and_their_boxes_cover_the_labels(imported):
    from spinedet.io.load import load_scan

    tmp_path, data, _ = imported
    sagittal = data["scans"][0]
    scan = load_scan(tmp_path / "out" / sagittal["image"])
    assert scan.view == "sagittal" and scan.shape == (9, 60, 40)
    ds = pydicom.dcmread(tmp_path / "rsna/train_images/1001/11/5.dcm")
    stenosis = next(f for f in sagittal["findings"] if f["class"] == "stenosis")
    assert inside(stenosis["box_lps"], pixel_to_lps(ds, row=25, column=20), scan)


def test_a_series_of_several_stacks_needs_copy_and_then_gives_one_scan_per_stack(tmp_path, capsys):
    from spinedet.io.load import load_scan

    build_rsna(tmp_path / "rsna")
    assert main(["import", "rsna2024", str(tmp_path / "rsna"), str(tmp_path / "out")]) == 0
    assert "1005/51: skipped: holds 2 stacks of different orientation or echo" in capsys.readouterr().err
    assert main(["import", "rsna2024", str(tmp_path / "rsna"), str(tmp_path / "copied"), "--copy"]) == 0
    data = json.loads((tmp_path / "copied" / "dataset.json").read_text())
    stacks = {s["id"]: s for s in data["scans"] if s["patient"] == "rsna-1005"}
    assert sorted(stacks) == ["rsna-1005-51-1", "rsna-1005-51-2"]
    tilted = next(s for s in stacks.values() if (tmp_path / "copied" / s["image"] / "5.dcm").is_file())
    straight = next(s for s in stacks.values() if s is not tilted)
    assert sorted(p.name for p in (tmp_path / "copied" / tilted["image"]).iterdir()) == ["4.dcm", "5.dcm", "6.dcm"]
    assert straight["findings"] == []  # the point lies 18 mm above the straight stack
    (finding,) = tilted["findings"]
    assert (finding["class"], finding["side"], finding["level"]) == ("subarticular_stenosis", "right", "L5/S1")
    scan = load_scan(tmp_path / "copied" / tilted["image"])
    assert scan.view == "axial" and scan.shape == (3, 60, 60)
    ds = pydicom.dcmread(tmp_path / "rsna/train_images/1005/51/5.dcm")
    assert inside(finding["box_lps"], pixel_to_lps(ds, row=30, column=30), scan)


def test_without_a_frame_of_reference_only_own_labels_are_placed_and_that_is_said(tmp_path, capsys):
    import shutil

    build_rsna(tmp_path / "rsna")
    shutil.rmtree(tmp_path / "rsna/train_images/1001/11")
    write_series(tmp_path / "rsna/train_images/1001/11", SAGITTAL, frame="")
    assert main(["import", "rsna2024", str(tmp_path / "rsna"), str(tmp_path / "out")]) == 0
    assert "1001/11: no single FrameOfReferenceUID: 2 finding(s) labelled on other series or stacks cannot be " \
        "placed in it; their (class, level) pairs are listed as unlabelled" in capsys.readouterr().err
    data = json.loads((tmp_path / "out" / "dataset.json").read_text())
    assert [f["class"] for f in data["scans"][0]["findings"]] == ["stenosis"]
    assert data["scans"][0]["unlabelled"] == [{"class": "foraminal_narrowing", "level": "L4/L5"},
                                              {"class": "subarticular_stenosis", "level": "L4/L5"}]
