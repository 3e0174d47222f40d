"""Cohort generation: determinism whatever the workers, valid dataset.json, no silent overwrite."""

import hashlib

import pytest

from spinedet.cli import main
from spinedet.data.dataset import load_dataset
from spinedet.errors import SpinedetError
from spinedet.synth import generate

SMALL = {"patients": {"C1": {"train": 1, "val": 1}, "C4": {"test": 1}}}


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "images").iterdir())}


def test_same_seed_same_bytes_whatever_workers(tmp_path):
    a = generate(tmp_path / "a", "tiny", seed=3, workers=1, **SMALL)
    b = generate(tmp_path / "b", "tiny", seed=3, workers=2, **SMALL)
    assert _digests(a.parent) == _digests(b.parent)
    assert a.read_bytes() == b.read_bytes()
    c = generate(tmp_path / "c", "tiny", seed=4, workers=1, **SMALL)
    assert _digests(c.parent) != _digests(a.parent)


def test_tiny_preset_is_valid_and_complete(tmp_path):
    path = generate(tmp_path / "tiny", "tiny", seed=0)
    data = load_dataset(path)
    ids = {s["id"] for s in data["scans"]}
    assert {"c1-0001-sag", "c1-0001-ax", "c4-0001-sag", "c4-0001-ax"} <= ids
    splits = {(s["center"], s["split"]) for s in data["scans"]}
    assert splits == {("C1", "train"), ("C1", "val"), ("C2", "test"), ("C3", "test"), ("C4", "train"), ("C4", "test"),
                      ("C5", "test")}
    regions = {s["center"]: s["region"] for s in data["scans"]}
    assert regions == {"C1": "lumbar", "C2": "lumbar", "C3": "lumbar", "C4": "cervical", "C5": "lumbar"}
    assert all(s["discs"] for s in data["scans"])
    assert sum(len(s["findings"]) for s in data["scans"]) > 0
    assert main(["validate", str(path)]) == 0


def test_refuses_non_empty_out_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(["synth", str(out), "--preset", "tiny"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert not (out / "dataset.json").exists()
    with pytest.raises(SpinedetError):
        generate(tmp_path / "x", "tiny", patients_per_centre=3)
    with pytest.raises(SpinedetError):
        generate(tmp_path / "y", "tiny", patients={"C1": {"training": 2}})


def test_label_maps_line_up_with_images(tmp_path):
    from spinedet.io.image_file import read_volume
    from spinedet.synth import tissues as T

    path = generate(tmp_path / "l", "tiny", seed=2, labels=True, patients={"C1": {"train": 1}})
    for scan in load_dataset(path)["scans"]:
        image, affine = read_volume(path.parent / scan["image"])
        labels, label_affine = read_volume(path.parent / scan["labels"])
        assert labels.shape == image.shape and (label_affine == affine).all()
        csf, muscle = image[labels == T.CSF], image[labels == T.MUSCLE]
        assert csf.size and muscle.size and csf.mean() > 3 * muscle.mean()


def test_cli_rejects_bad_workers(tmp_path, capsys):
    assert main(["synth", str(tmp_path / "w"), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err


def test_paper_preset_runs_small_with_overrides(tmp_path):
    path = generate(tmp_path / "p", "paper", seed=0, patients={"C3": {"test": 1}}, min_pixel_mm=2.0,
                    max_slices=10, sub_slices=2)
    data = load_dataset(path)
    assert data["synth"]["preset"] == "paper" and len(data["scans"]) == 2
    assert {s["split"] for s in data["scans"]} == {"test"}
