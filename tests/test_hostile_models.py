"""Hostile model folders: missing or truncated model.safetensors, a model.json of another format version, missing or
wrong-typed fields, a config that does not fit the weights. `detect --model` gives exit 2 with one line naming the
folder or file and the problem, and writes nothing; nothing is ever unpickled."""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostile import error_line, hostile_settings, record, run_cli
from model_configs import micro_config
from spinedet.io.image_file import write_volume
from spinedet.model.build import build_model
from spinedet.model.run import MODEL_FORMAT, save_run

CLASSES = ["herniation", "bulge", "degenerated_disc", "stenosis", "disc"]
WIDTHS = [("finder", "base_width"), ("finder", "d_model"), ("judge", "base_width"), ("judge", "decoder_width")]


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile-models")
    config = micro_config()
    meta = {"config": config, "classes": CLASSES, "region": "lumbar", "view": "sagittal", "threshold": 0.5,
            "preprocessing": {}}
    save_run(root / "good", build_model(config, CLASSES, "lumbar", "sagittal"), meta)
    write_volume(root / "scan.nii.gz", np.random.default_rng(0).random((12, 40, 60)).astype(np.float32), np.eye(4))
    return root


def _edit_meta(run: Path, change) -> None:
    meta = json.loads((run / "model.json").read_text())
    change(meta)
    (run / "model.json").write_text(json.dumps(meta))


MUTATIONS = st.one_of(
    st.tuples(st.just("no weights"), st.none()),
    st.tuples(st.just("truncated weights"), st.floats(0.0, 0.999)),
    st.tuples(st.just("other format"), st.text(max_size=20).filter(lambda t: t != MODEL_FORMAT)),
    st.tuples(st.just("field missing"), st.sampled_from(["config", "classes", "region", "view", "format"])),
    st.tuples(st.just("field wrong"), st.tuples(st.sampled_from(["config", "classes", "region", "view"]),
                                                st.one_of(st.none(), st.integers(), st.text(max_size=5),
                                                          st.lists(st.integers(), max_size=2)))),
    st.tuples(st.just("config misfits"), st.tuples(st.sampled_from(WIDTHS), st.integers(1, 6))),
    st.tuples(st.just("classes misfit"), st.integers(1, 3)),
)


def _mutate(run: Path, kind: str, arg) -> None:
    weights = run / "model.safetensors"
    if kind == "no weights":
        weights.unlink()
    elif kind == "truncated weights":
        weights.write_bytes(weights.read_bytes()[: int(arg * weights.stat().st_size)])
    elif kind == "other format":
        _edit_meta(run, lambda m: m.update(format=arg))
    elif kind == "field missing":
        _edit_meta(run, lambda m: m.pop(arg))
    elif kind == "field wrong":
        _edit_meta(run, lambda m: m.update({arg[0]: arg[1]}))
    elif kind == "config misfits":
        (part, key), factor = arg
        _edit_meta(run, lambda m: m["config"][part].update({key: m["config"][part][key] * 2 + 2 * factor}))
    else:
        _edit_meta(run, lambda m: m.update(classes=CLASSES[arg:]))


def test_hostile_model_folders(good_run):
    @hostile_settings("models")
    @given(mutation=MUTATIONS)
    def case(mutation):
        folder = Path(tempfile.mkdtemp(dir=good_run))
        run = folder / "run"
        shutil.copytree(good_run / "good", run)
        _mutate(run, *mutation)
        out = folder / "out"
        code, _, err = run_cli("detect", good_run / "scan.nii.gz", "--model", run, "--out", out, "--no-overlays")
        error_line(code, err, "detect", run)
        assert not out.exists()
        record("models", mutation[0])
        shutil.rmtree(folder)

    case()


def test_model_folder_through_a_subprocess(good_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(good_run / "good", run)
    _mutate(run, "config misfits", (("finder", "base_width"), 1))
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "spinedet", "detect", str(good_run / "scan.nii.gz"), "--model",
                             str(run), "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and f"{run}: weights do not fit the config" in result.stderr
    assert not out.exists()
