"""`spinedet synth`, `import` and `detect` killed midway (SIGKILL: no clean-up runs) leave no output that looks
complete, and the same command run again gives the files of an uninterrupted run, byte for byte."""

import json
import shutil
import signal
import subprocess

import numpy as np
import pytest
import torch

from killing import file_bytes, kill_when, spinedet, visible_files
from model_configs import micro_config
from spinedet import __version__
from spinedet.data.dataset import DISC_CLASS, DISEASE_CLASSES, load_dataset
from spinedet.model.build import build_model
from spinedet.model.run import save_run
from spinedet.study.sets import write_subset
from test_import_spider import build_spider

KILLED = -signal.SIGKILL


def files_appeared(folder, suffix: str):
    """ready(): a file with `suffix` stands at its final (not hidden) name under `folder`."""
    return lambda _lines: folder.is_dir() and any(p.name.endswith(suffix) for p in visible_files(folder))


def test_killed_synth_leaves_whole_images_only_and_a_rerun_gives_the_same_cohort(tiny_cohort, tmp_path):
    """Killed as its first image appears; the session's tiny cohort (same preset and seed) is the uninterrupted run."""
    out = tmp_path / "data"
    command = spinedet("synth", out, "--preset", "tiny", "--seed", "0")
    code, _ = kill_when(command, files_appeared(out / "images", ".nii.gz"))
    assert code == KILLED
    reference = file_bytes(tiny_cohort.parent)
    assert not (out / "dataset.json").exists()
    left = visible_files(out)
    assert left, "killed before any image was written: the kill came too early to test anything"
    for path in left:  # whatever stands at a final name is whole: the uninterrupted run's bytes
        assert path.read_bytes() == reference[path.relative_to(out).as_posix()], path
    done = subprocess.run(command + ["--overwrite"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert file_bytes(out) == reference  # no temporary file of the killed run is left either


SPIDER_PATIENTS = 40  # ~1.5 s of import after the first copied image: the kill lands midway


def big_spider(root):
    """The SPIDER test folder with patient 1's T2 scans repeated as patients 5, 6, ... (40 patients)."""
    build_spider(root)
    grades = [row for row in (root / "radiological_gradings.csv").read_text().splitlines() if row.startswith("1,")]
    rows = []
    for patient in range(5, 5 + SPIDER_PATIENTS):
        for folder in ("images", "masks"):
            for sequence in ("t2", "t2_SPACE"):
                shutil.copyfile(root / folder / f"1_{sequence}.mha", root / folder / f"{patient}_{sequence}.mha")
        rows += [f"{patient}," + row.split(",", 1)[1] for row in grades]
    with open(root / "radiological_gradings.csv", "a") as f:
        f.write("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def spider(tmp_path_factory):
    """(SPIDER folder, its uninterrupted `import spider --copy` output folder)."""
    root = tmp_path_factory.mktemp("spider")
    big_spider(root / "SPIDER")
    done = subprocess.run(spinedet("import", "spider", root / "SPIDER", root / "whole", "--copy", "--val-fraction",
                                   "0.25"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return root / "SPIDER", root / "whole"


def test_killed_import_leaves_no_dataset_and_a_rerun_gives_the_same_files(spider, tmp_path):
    src, whole = spider
    out = tmp_path / "whole"  # the same depth as the reference, so relative image paths agree
    command = spinedet("import", "spider", src, out, "--copy", "--val-fraction", "0.25")
    code, _ = kill_when(command, files_appeared(out / "images", ".mha"))
    assert code == KILLED
    reference = file_bytes(whole)
    assert not (out / "dataset.json").exists()
    left = visible_files(out)
    assert 0 < len(left) < len(reference) - 1
    for path in left:
        assert path.read_bytes() == reference[path.relative_to(out).as_posix()], path
    done = subprocess.run(command + ["--overwrite"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert file_bytes(out) == reference


@pytest.fixture(scope="module")
def untrained_run(tmp_path_factory):
    """A micro sagittal run, freshly initialised: every local maximum a disc (all scored ~0.18, so its threshold of
    0.5 leaves no finding: one overview image per scan, quick to draw)."""
    run_dir = tmp_path_factory.mktemp("untrained") / "run"
    torch.manual_seed(0)
    config = micro_config()
    config["train"]["score_floor"] = 0.0
    classes = list(DISEASE_CLASSES) + [DISC_CLASS]
    model = build_model(config, classes, "lumbar", "sagittal")
    torch.nn.init.constant_(model.finder.heads["heatmap"].bias, 2.0)
    meta = {"config": config, "classes": classes, "view": "sagittal", "region": "lumbar", "threshold": 0.5,
            "preprocessing": {"sagittal": config["input"]["lumbar"]["sagittal"]}, "spinedet_version": __version__}
    save_run(run_dir, model, meta)
    return run_dir


def test_killed_detect_publishes_nothing_and_the_same_command_again_gives_the_same_files(tiny_cohort, untrained_run,
                                                                                         tmp_path):
    """Killed after its first scan (its summary line printed): nothing at a final path, and the rerun, without
    --overwrite, clears the killed run's staging folder and writes what an uninterrupted run writes."""
    data = load_dataset(tiny_cohort)
    chosen = {s["id"] for s in data["scans"] if s["view"] == "sagittal" and s["center"] == "C1"}
    subset = write_subset(data, tiny_cohort, tmp_path / "two.json", lambda s: s["id"] in sorted(chosen)[:2])

    def command(out):
        return spinedet("detect", subset, "--model", untrained_run, "--out", out)

    whole = tmp_path / "whole"
    done = subprocess.run(command(whole), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    n_scans = len(json.loads((whole / "findings.json").read_text())["scans"])
    assert n_scans == 2
    out = tmp_path / "again"
    code, lines = kill_when(command(out), lambda lines: any(" (lumbar sagittal): discs " in ln for ln in lines))
    assert code == KILLED
    assert 1 <= sum(" (lumbar sagittal): discs " in ln for ln in lines) < n_scans
    assert out.is_dir() and visible_files(out) == []  # staged in a hidden folder: nothing published
    assert any(out.iterdir())  # the killed run's staging folder, with what it had drawn
    done = subprocess.run(command(out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert file_bytes(out) == file_bytes(whole)
    assert np.all([not p.name.startswith(".") for p in out.iterdir()])
