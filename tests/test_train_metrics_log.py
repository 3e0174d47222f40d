"""Training scalars land in metrics.csv (pandas-readable) and in TensorBoard event files with the same values."""

import csv

from spinedet.train.metrics_log import MetricsLog


def test_rows_reach_csv_and_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log = MetricsLog(tmp_path)
    log.write([{"step": 1, "epoch": 0, "loss": 3.5, "loss_judge_mask": 0.5, "lr": 1e-4},
               {"step": 2, "epoch": 0, "loss": 2.5, "loss_judge_mask": 0.25, "lr": 2e-4}])
    log.write([{"step": 3, "epoch": 1, "loss": 1.5, "lr": 3e-4, "val_cpm": 0.25}])
    log.close()
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [r["loss"] for r in rows] == ["3.5", "2.5", "1.5"] and rows[2]["val_cpm"] == "0.25" and rows[0]["val_cpm"] == ""
    assert [r["loss_judge_mask"] for r in rows] == ["0.5", "0.25", ""]  # the model's own loss parts are columns
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("train/loss")] == [(1, 3.5), (2, 2.5), (3, 1.5)]
    assert [(e.step, e.value) for e in events.Scalars("val/cpm")] == [(3, 0.25)]
    assert [(e.step, e.value) for e in events.Scalars("train/loss_judge_mask")] == [(1, 0.5), (2, 0.25)]
