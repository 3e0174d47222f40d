"""An installed package works: the wheel (built in conftest) carries the shipped configs and a config loads from the
installed copy."""

import subprocess
import sys
import zipfile
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.name for p in (REPO / "spinedet" / "configs").glob("*.json"))


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
