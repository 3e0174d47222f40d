"""An installed package works: the wheel installed (not editable) into a fresh environment runs `spinedet synth`,
`train --config small` and `detect` from a folder outside the source tree, and it is that copy that runs."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def env(wheel, tmp_path_factory) -> Path:
    """A new venv without the source tree: the wheel installed into it, the dependencies (torch, MONAI, ...) seen
    through a .pth line naming this environment's site-packages, appended after the venv's own (which wins)."""
    env = tmp_path_factory.mktemp("env") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = Path(subprocess.run([str(env / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")  # a path line: its .pth files unread
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "--quiet",
                           "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return env


def run(env: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([*map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env={**clean, "PATH": f"{env / 'bin'}:{clean.get('PATH', '')}"})


@pytest.mark.slow
def test_the_installed_package_synthesises_trains_and_detects(env, tmp_path):
    work = tmp_path / "work"  # outside the source tree
    work.mkdir()
    where = run(env, work, env / "bin" / "python", "-c", "import spinedet, torch; print(spinedet.__file__); "
                "print(torch.__file__)")
    assert where.returncode == 0, where.stderr
    spinedet_file, torch_file = where.stdout.split()
    assert Path(spinedet_file).is_relative_to(env) and not Path(spinedet_file).is_relative_to(REPO)
    assert not Path(torch_file).is_relative_to(env)  # the dependencies come from the .pth line
    cli = env / "bin" / "spinedet"  # the installed console script
    assert cli.is_file() and str(env / "bin" / "python") in cli.read_text().splitlines()[0]
    done = run(env, work, cli, "synth", "data", "--preset", "tiny")
    assert done.returncode == 0, done.stderr
    done = run(env, work, cli, "train", "data/dataset.json", "--view", "sagittal", "--region", "lumbar",
               "--config", "small", "--out", "run", "--epochs", "1", "--max-steps", "2")
    assert done.returncode == 0, done.stderr
    assert (work / "run" / "model.safetensors").is_file()
    done = run(env, work, cli, "detect", "data/images/c1-0001-sag.nii.gz", "--model", "run", "--out", "found",
               "--threshold", "0.5")
    assert done.returncode == 0, done.stderr
    assert (work / "found" / "findings.json").is_file() and (work / "found" / "overlays").is_dir()
    assert not any(p.name == "spinedet" and p.is_dir() for p in work.iterdir())  # nothing of the sources beside it
