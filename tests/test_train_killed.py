"""Killed at any moment (SIGKILL, no chance to clean up), `spinedet train --resume` ends with the weights of an
uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from model_configs import micro_config

EPOCHS = 8  # 2 steps an epoch on the tiny cohort's 3 sagittal training scans, a state saved after each


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "micro.json"
    micro = micro_config()
    micro["train"]["epochs"] = EPOCHS
    path.write_text(json.dumps(micro))
    return path


def _command(dataset: Path, config: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "spinedet", "train", str(dataset), "--view", "sagittal", "--region", "lumbar",
            "--config", str(config), "--out", str(out), *extra]


def _digests(out: Path) -> list[str]:
    return json.loads((out / "model.json").read_text())["training"]["replica_digests"]


def _kill_when_states_saved(command: list[str], out: Path, states: int, delay_s: float) -> int:
    """Start a training, SIGKILL it `delay_s` after its state file has been rewritten `states` times; its exit code."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state, seen, last = out / "state" / "state.safetensors", 0, None
    deadline = time.monotonic() + 120
    while seen < states and process.poll() is None and time.monotonic() < deadline:
        stamp = state.stat().st_mtime_ns if state.exists() else None
        if stamp is not None and stamp != last:
            seen, last = seen + 1, stamp
        time.sleep(0.005)
    time.sleep(delay_s)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    return process.wait()


@pytest.mark.parametrize("states, delay_s", [(0, 0.0), (2, 0.0), (3, 0.35)])
def test_killed_training_resumes_to_the_uninterrupted_weights(tiny_cohort, config, tmp_path, states, delay_s):
    whole = tmp_path / "whole"
    assert subprocess.run(_command(tiny_cohort, config, whole), capture_output=True).returncode == 0
    parts = tmp_path / "parts"
    code = _kill_when_states_saved(_command(tiny_cohort, config, parts), parts, states,
                                   delay_s + float(np.random.default_rng(states).uniform(0, 0.05)))
    assert code == -signal.SIGKILL  # killed mid-run, not finished
    resumed = subprocess.run(_command(tiny_cohort, config, parts, "--resume"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert _digests(parts) == _digests(whole)
