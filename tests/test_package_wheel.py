"""An installed package works: the wheel carries the shipped configs and a config loads from the installed copy."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.name for p in (REPO / "spinedet" / "configs").glob("*.json"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the sources alone (no build/ or *.egg-info left by an earlier install, whose
    file lists would carry the configs in even without the package-data declaration)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "spinedet", source / "spinedet", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(source)], check=True, capture_output=True)
    return next(out.glob("spinedet-*.whl"))


def test_wheel_holds_every_shipped_config(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert SHIPPED and all(f"spinedet/configs/{name}" in names for name in SHIPPED)


def test_config_loads_from_the_installed_wheel(wheel, tmp_path):
    """The wheel unpacked alone on sys.path (no repository beside it) loads its configs by name."""
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from spinedet.train.config import load_config, SHIPPED; "
            "assert sys.argv[1] in str(SHIPPED), SHIPPED; print(load_config('small')['name'])")
    done = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "small"
