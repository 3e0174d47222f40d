"""A training whose loss turns NaN stops at that step with one line naming the run, instead of training a dead
model (NaN weights score 0 everywhere, as two bf16 quick-study trainings did on an AVX512-BF16 CPU)."""

import json

from spinedet.cli import main
from spinedet.train.level_task import LevelTask
from model_configs import micro_config


def test_nan_loss_stops_training_with_one_line(tiny_cohort, tmp_path, monkeypatch, capsys):
    config = tmp_path / "micro.json"
    config.write_text(json.dumps(micro_config()))
    real_loss = LevelTask.loss

    def nan_from_step_two(self, model, items, rng, device, calls=[0]):
        total, parts = real_loss(self, model, items, rng, device)
        calls[0] += 1
        return (total * float("nan") if calls[0] >= 2 else total), parts

    monkeypatch.setattr(LevelTask, "loss", nan_from_step_two)
    out = tmp_path / "run"
    rc = main(["train", str(tiny_cohort), "--view", "sagittal", "--region", "lumbar", "--config", str(config),
               "--out", str(out), "--max-steps", "3"])
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # the lines before it are progress
    assert rc == 2 and "Traceback" not in err and "not finite at step 2" in last and str(out) in last
    assert not (out / "model.safetensors").exists()


def test_amx_check_reads_cpu_flags():
    from spinedet.model.precision import cpu_has_amx_bf16

    flags = open("/proc/cpuinfo").read()
    assert cpu_has_amx_bf16() == (" amx_bf16" in flags)
