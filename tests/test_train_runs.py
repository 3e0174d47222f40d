"""Training end to end on the tiny cohort: checkpoint files, resume identity, transfer, DDP replicas, bad input."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from spinedet.cli import main
from spinedet.data.dataset import validate as validate_dataset
from spinedet.infer.predictor import Predictor, predict_entries
from spinedet.io.load import load_scan
from spinedet.model.run import load_run
from model_configs import micro_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def micro(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "micro.json"
    path.write_text(json.dumps(micro_config()))
    return path


def _train(dataset, out, config, *extra) -> int:
    return main(["train", str(dataset), "--view", "sagittal", "--region", "lumbar", "--config", str(config),
                 "--out", str(out), *extra])


def test_train_writes_a_loadable_run_and_predicts(tiny_cohort, micro, tmp_path):
    assert _train(tiny_cohort, tmp_path / "run", micro) == 0
    meta = json.loads((tmp_path / "run" / "model.json").read_text())
    assert meta["classes"][-1] == "disc" and meta["view"] == "sagittal" and meta["training"]["finished"]
    assert 0.0 <= meta["threshold"] <= 1.0 and "validation" in meta
    assert (tmp_path / "run" / "metrics.csv").read_text().count("\n") >= 3
    model, _ = load_run(tmp_path / "run")
    # the run's model is the one at the schedule's end (validated there), whatever its validation CPM
    assert meta["validation"]["step"] == meta["training"]["steps"]
    final = load_file(tmp_path / "run" / "state" / "state.safetensors")
    assert all(torch.equal(final[f"model.{k}"], v) for k, v in model.state_dict().items())
    scan_entry = json.loads(tiny_cohort.read_text())["scans"][0]
    scan = load_scan(tiny_cohort.parent / scan_entry["image"])
    floor = meta["config"]["train"]["score_floor"]
    findings, discs = Predictor(model, meta).predict(scan, "lumbar")
    for d in findings + discs:
        assert d["class"] in meta["classes"] and (d["score"] >= floor or d["class"] == "disc")
        assert all(a < b for a, b in zip(d["box_lps"][:3], d["box_lps"][3:]))
    assert {f["level"] for f in findings} <= {d["level"] for d in discs}
    val = [e for e in json.loads(tiny_cohort.read_text())["scans"] if e["split"] == "val"]
    predictions = predict_entries([Predictor(model, meta)], tiny_cohort, val, ["herniation", "bulge",
                                                                              "degenerated_disc", "stenosis"])
    assert validate_dataset(predictions, tiny_cohort.parent) == []
    assert [s["id"] for s in predictions["scans"]] == [s["id"] for s in val]
    assert all(f["score"] >= floor for s in predictions["scans"] for f in s["findings"])
    assert _train(tiny_cohort, tmp_path / "run", micro) == 2  # never overwrites a run


def test_resume_gives_identical_weights(tiny_cohort, micro, tmp_path):
    assert _train(tiny_cohort, tmp_path / "whole", micro) == 0
    assert _train(tiny_cohort, tmp_path / "parts", micro, "--max-steps", "3") == 0
    assert _train(tiny_cohort, tmp_path / "parts", micro, "--resume") == 0
    whole = json.loads((tmp_path / "whole" / "model.json").read_text())["training"]["replica_digests"]
    parts = json.loads((tmp_path / "parts" / "model.json").read_text())["training"]["replica_digests"]
    assert whole == parts


def test_transfer_copies_weights_and_freezes_stages(tiny_cohort, micro, tmp_path):
    assert _train(tiny_cohort, tmp_path / "lumbar", micro, "--max-steps", "1") == 0
    assert main(["train", str(tiny_cohort), "--view", "sagittal", "--region", "cervical", "--config", str(micro),
                 "--out", str(tmp_path / "cervical"), "--init", str(tmp_path / "lumbar"), "--freeze", "2",
                 "--max-steps", "1"]) == 0
    meta = json.loads((tmp_path / "cervical" / "model.json").read_text())
    source, _ = load_run(tmp_path / "lumbar")
    target, _ = load_run(tmp_path / "cervical")
    assert meta["training"]["init_tensors"] == len(source.state_dict())
    for part in ("finder", "judge"):  # stage 1 is frozen with --freeze 2 (stem + stage 1)
        frozen = f"{part}.backbone.stages.0.0.conv1.weight"
        assert torch.equal(source.state_dict()[frozen], target.state_dict()[frozen])
    moved = "judge.presence.weight"
    assert not torch.equal(source.state_dict()[moved], target.state_dict()[moved])


def test_bad_training_requests_are_one_line_errors(tiny_cohort, micro, tmp_path, capsys):
    assert _train(tiny_cohort, tmp_path / "r", tmp_path / "nope.json") == 2
    assert main(["train", str(tiny_cohort), "--view", "axial", "--region", "cervical", "--config", str(micro),
                 "--out", str(tmp_path / "r2"), "--init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert [line.split(": ")[0] for line in err.splitlines() if "error" in line] == ["spinedet train"] * 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_cpu_ranks_hold_identical_weights(tiny_cohort, micro, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(_free_port()),
           "-m", "spinedet", "train", str(tiny_cohort), "--view", "sagittal", "--region", "lumbar",
           "--config", str(micro), "--out", str(tmp_path / "ddp"), "--max-steps", "2"]
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    digests = json.loads((tmp_path / "ddp" / "model.json").read_text())["training"]["replica_digests"]
    assert len(digests) == 2 and digests[0] == digests[1]
    assert json.loads((tmp_path / "ddp" / "model.json").read_text())["training"]["world_size"] == 2
