"""`spinedet import spider` on a small SPIDER folder built here in the published layout."""

import json

import numpy as np
import pytest

from spinedet.cli import main
from spinedet.data.dataset import validate
from spinedet.data.importers.spider import disc_level
from spinedet.io.geometry import box_world_to_voxel, voxel_box_of_mask, voxel_to_world, world_to_voxel
from spinedet.io.image_file import read_volume, write_volume
from spinedet.io.scan import Scan

# Array axes: 0 rows going inferior (0.8 mm), 1 columns going posterior (0.6 mm), 2 slices going left (3.5 mm).
AFFINE = np.array([[0, 0, 3.5, -20.0], [0, 0.6, 0, -50.0], [-0.8, 0, 0, 100.0], [0, 0, 0, 1]])
SHAPE = (40, 30, 6)
HERNIATION_VOXEL = (21, 24, 3)  # disc 202 material protruding posteriorly beyond the disc's block
GRADING_HEADER = (
    "Patient,IVD label,Modic,UP endplate,LOW endplate,Spondylolisthesis,Disc herniation,Disc narrowing,"
    "Disc bulging,Pfirrman grade\n"
)


def _mask() -> np.ndarray:
    mask = np.zeros(SHAPE, np.int16)
    for n, (top, bottom) in enumerate([(33, 39), (24, 29), (15, 20), (6, 11)], start=1):
        mask[top:bottom + 1, 6:20, 1:5] = n  # vertebrae L5 (1), L4 (2), L3 (3), L2 (4)
    for n, rows in enumerate([(30, 32), (21, 23), (12, 14)], start=1):
        mask[rows[0]:rows[1] + 1, 6:20, 1:5] = 200 + n  # discs L5/S1 (201), L4/L5 (202), L3/L4 (203)
    mask[4:38, 21:24, 2:4] = 100  # spinal canal
    mask[HERNIATION_VOXEL[0], 20:25, 3] = 202
    return mask


def build_spider(root):
    """Patients 1 (t1, t2, t2_SPACE), 2 (t2 without mask), 4 (t2, no gradings); overview and gradings CSVs."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    image = np.random.default_rng(0).normal(100, 10, SHAPE).astype(np.float32)
    for name in ("1_t1", "1_t2", "1_t2_SPACE", "2_t2", "4_t2"):
        write_volume(root / "images" / f"{name}.mha", image, AFFINE)
        if name != "2_t2":
            write_volume(root / "masks" / f"{name}.mha", _mask(), AFFINE)
    (root / "overview.csv").write_text("new_file_name,subset,num_vertebrae,num_discs,PatientSex\n1_t2,training,4,3,F\n")
    (root / "radiological_gradings.csv").write_text(
        GRADING_HEADER
        + "1,1,0,0,0,0,0,0,0,4\n"  # L5/S1: Pfirrmann IV -> degenerated_disc
        + "1,2,0,0,0,0,1,0,1,3\n"  # L4/L5: herniation and bulge
        + "1,3,0,0,0,0,0,0,0,2\n"  # L3/L4: healthy
        + "1,4,0,0,0,0,0,0,0,1\n"  # L2/L3: graded, not segmented, healthy
        + "1,0,0,0,0,0,0,0,0,1\n"  # IVD label 0 names no disc
        + "2,1,0,0,0,0,0,0,0,2\n"
    )


@pytest.fixture()
def imported(tmp_path, capsys):
    build_spider(tmp_path / "SPIDER")
    assert main(["import", "spider", str(tmp_path / "SPIDER"), str(tmp_path / "out")]) == 0
    data = json.loads((tmp_path / "out" / "dataset.json").read_text())
    return tmp_path, data, capsys.readouterr()


def test_disc_labels_count_up_from_the_sacrum():
    assert [disc_level(v) for v in (201, 202, 205, 206, 207, 223)] == [
        "L5/S1", "L4/L5", "L1/L2", "T12/L1", "T11/T12", "C2/C3"]
    assert disc_level(224) is None and disc_level(200) is None


def test_t2_scans_are_imported_with_findings_from_the_gradings(imported):
    tmp_path, data, _ = imported
    assert validate(data, tmp_path / "out") == []
    assert data["classes"] == ["herniation", "bulge", "degenerated_disc"]
    assert [s["id"] for s in data["scans"]] == ["spider-1-t2", "spider-1-t2_SPACE"]
    scan = data["scans"][0]
    assert (scan["patient"], scan["center"], scan["region"], scan["view"], scan["split"]) == (
        "spider-1", "SPIDER", "lumbar", "sagittal", "train")
    assert (tmp_path / "out" / scan["image"]).resolve() == (tmp_path / "SPIDER" / "images" / "1_t2.mha").resolve()
    assert sorted((f["class"], f["level"]) for f in scan["findings"]) == [
        ("bulge", "L4/L5"), ("degenerated_disc", "L5/S1"), ("herniation", "L4/L5")]
    assert [d["level"] for d in scan["discs"]] == ["L3/L4", "L4/L5", "L5/S1"]


def test_pfirrmann_grades_survive_the_import(imported):
    """Every graded disc keeps its Pfirrmann grade (1-5 in the CSV, I-V in dataset.json); the degenerated disc's
    finding carries it as its grade; SPIDER's binary herniation and bulge carry none."""
    _, data, _ = imported
    scan = data["scans"][0]
    assert [(d["level"], d["pfirrmann"]) for d in scan["discs"]] == [("L3/L4", "II"), ("L4/L5", "III"), ("L5/S1", "IV")]
    assert sorted((f["class"], f.get("grade")) for f in scan["findings"]) == [
        ("bulge", None), ("degenerated_disc", "IV"), ("herniation", None)]


def test_boxes_are_the_disc_masks_and_cover_the_herniated_voxel(imported):
    tmp_path, data, _ = imported
    array, affine = read_volume(tmp_path / "SPIDER" / "masks" / "1_t2.mha")
    mask_scan = Scan.from_array(array, affine)
    assert mask_scan.view == "sagittal"
    scan = data["scans"][0]
    for disc in scan["discs"]:
        label = {"L5/S1": 201, "L4/L5": 202, "L3/L4": 203}[disc["level"]]
        expected = voxel_box_of_mask(np.rint(mask_scan.array) == label)
        assert np.allclose(box_world_to_voxel(disc["box_lps"], mask_scan.affine), expected, atol=1e-6)
    herniation = next(f for f in scan["findings"] if f["class"] == "herniation")
    box = box_world_to_voxel(herniation["box_lps"], mask_scan.affine)
    voxel = world_to_voxel(voxel_to_world(np.array(HERNIATION_VOXEL, float), affine), mask_scan.affine)
    assert np.all(box[:3] < voxel) and np.all(voxel < box[3:])


def test_each_problem_has_its_own_line_and_the_summary_counts_them(imported):
    _, _, captured = imported
    err = captured.err
    assert "2_t2.mha: skipped: no mask" in err
    assert "4_t2.mha: skipped: patient 4 has no row in radiological_gradings.csv" in err
    assert "radiological_gradings.csv line 6: skipped" in err
    assert "1_t1" not in err
    assert "imported 2 scans of 1 patients" in captured.out and "'scans': 2" in captured.out


def test_refuses_to_overwrite_and_missing_source_is_an_input_error(imported, capsys):
    tmp_path, _, _ = imported
    assert main(["import", "spider", str(tmp_path / "SPIDER"), str(tmp_path / "out")]) == 2
    assert "--overwrite" in capsys.readouterr().err
    before = (tmp_path / "out" / "dataset.json").read_text()
    assert main(["import", "spider", str(tmp_path / "SPIDER"), str(tmp_path / "out"), "--overwrite"]) == 0
    assert (tmp_path / "out" / "dataset.json").read_text() == before  # deterministic
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["dataset.json"]  # no temporary file left
    assert main(["import", "spider", str(tmp_path / "nowhere"), str(tmp_path / "out2")]) == 2
    assert "nowhere: does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()


def test_missing_gradings_skip_every_scan_and_write_nothing(tmp_path, capsys):
    build_spider(tmp_path / "SPIDER")
    (tmp_path / "SPIDER" / "radiological_gradings.csv").unlink()
    assert main(["import", "spider", str(tmp_path / "SPIDER"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "radiological_gradings.csv: missing" in err and "no scan could be imported" in err
    assert not (tmp_path / "out" / "dataset.json").exists()


def test_copy_and_validation_split(tmp_path, capsys):
    build_spider(tmp_path / "SPIDER")
    args = ["import", "spider", str(tmp_path / "SPIDER"), str(tmp_path / "out"), "--copy", "--val-fraction", "0.5",
            "--sequences", "t2"]
    assert main(args) == 0
    data = json.loads((tmp_path / "out" / "dataset.json").read_text())
    assert [(s["image"], s["split"]) for s in data["scans"]] == [("images/1_t2.mha", "val")]
    assert (tmp_path / "out" / "images" / "1_t2.mha").is_file()


def test_validation_split_is_by_patient_deterministic_and_sized():
    from spinedet.data.importers.output import split_of_patients

    patients = [f"p{n}" for n in range(20)]
    first = split_of_patients(patients, 0.25)
    assert first == split_of_patients(list(reversed(patients)), 0.25)
    assert sum(v == "val" for v in first.values()) == 5
    assert set(split_of_patients(patients, 0.0).values()) == {"train"}


REALDATA = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "realdata"


@pytest.mark.skipif(not (REALDATA / "lumbar_sag_t2.nii.gz").is_file(), reason="shared/realdata is absent")
def test_real_scan_geometry_round_trips_through_the_import(tmp_path, capsys):
    array, affine = read_volume(REALDATA / "lumbar_sag_t2.nii.gz")
    root = tmp_path / "SPIDER"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    write_volume(root / "images" / "7_t2.mha", array, affine)
    mask = np.zeros(array.shape, np.int16)
    mask[15:24, 120:126, 60:90] = 202  # a disc-sized block; its labels are made up, the geometry is real
    write_volume(root / "masks" / "7_t2.mha", mask, affine)
    (root / "overview.csv").write_text("new_file_name,subset\n7_t2,training\n")
    (root / "radiological_gradings.csv").write_text(GRADING_HEADER + "7,2,0,0,0,0,1,0,0,3\n")
    assert main(["import", "spider", str(root), str(tmp_path / "out")]) == 0
    data = json.loads((tmp_path / "out" / "dataset.json").read_text())
    from spinedet.io.load import load_scan

    scan = load_scan(tmp_path / "out" / data["scans"][0]["image"])
    (finding,) = data["scans"][0]["findings"]
    assert finding["class"] == "herniation" and finding["level"] == "L4/L5"
    box = box_world_to_voxel(finding["box_lps"], scan.affine)
    for corner in ((15, 120, 60), (23, 125, 89)):
        voxel = world_to_voxel(voxel_to_world(np.array(corner, float), affine), scan.affine)
        assert np.all(box[:3] < voxel) and np.all(voxel < box[3:])
    assert np.allclose(sorted(box[3:] - box[:3]), [6, 9, 30])  # exactly the block: 1 mm voxels, permuted axes


def test_unknown_labels_and_non_sagittal_scans_are_reported(tmp_path, capsys):
    build_spider(tmp_path / "SPIDER")
    mask = _mask()
    mask[0, 0, 0], mask[0, 1, 0] = 224, 150  # a disc with no level between C2/C3 and L5/S1; an unknown value
    write_volume(tmp_path / "SPIDER" / "masks" / "1_t2.mha", mask, AFFINE)
    axial = AFFINE[:, [0, 2, 1, 3]][[2, 1, 0, 3]]  # the same grid turned so that slices stack head to foot
    image = np.zeros(SHAPE, np.float32)
    write_volume(tmp_path / "SPIDER" / "images" / "1_t2_SPACE.mha", image, axial)
    write_volume(tmp_path / "SPIDER" / "masks" / "1_t2_SPACE.mha", _mask(), axial)
    assert main(["import", "spider", str(tmp_path / "SPIDER"), str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "1_t2.mha: mask values [150] are outside SPIDER's convention" in err
    assert "1_t2.mha: disc label 224 names no level" in err
    assert "1_t2_SPACE.mha: skipped: its geometry is axial" in err
    data = json.loads((tmp_path / "out" / "dataset.json").read_text())
    assert [s["id"] for s in data["scans"]] == ["spider-1-t2"]
    assert [d["level"] for d in data["scans"][0]["discs"]] == ["L3/L4", "L4/L5", "L5/S1"]
