"""Training scalars: metrics.csv always, TensorBoard event files too when the tensorboard package is installed."""

from __future__ import annotations

import csv
from pathlib import Path

VAL_COLUMNS = ["val_cpm", "val_ap", "val_f1", "val_precision", "val_recall", "val_threshold", "val_level_accuracy",
               "val_disc_recall", "val_disc_level_accuracy", "val_false_discs_per_scan"]


def columns_of(row: dict) -> list[str]:
    """The CSV columns for a model's rows: counters, the loss and its parts (which the model kind decides), lr,
    validation."""
    return (["step", "epoch", "wall_s", "loss"] + sorted(k for k in row if k.startswith("loss_")) + ["lr"]
            + VAL_COLUMNS)


def _tensorboard_writer(folder: Path):
    """A SummaryWriter on `folder`, or None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # torch.utils.tensorboard needs the separate tensorboard package
        return None
    return SummaryWriter(log_dir=str(folder))


class MetricsLog:
    """Appends rows to RUN/metrics.csv and, where possible, writes them as scalars to RUN/tensorboard/."""

    def __init__(self, run_dir: Path):
        self.csv_path = Path(run_dir) / "metrics.csv"
        self.tensorboard = _tensorboard_writer(Path(run_dir) / "tensorboard")

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        new = not self.csv_path.exists()
        if new:
            columns = columns_of(rows[0])
        else:
            with open(self.csv_path, newline="") as f:
                columns = next(csv.reader(f))
        with open(self.csv_path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerows(rows)
        if self.tensorboard is not None:
            for row in rows:
                for name in columns[3:]:
                    if name in row:
                        tag = name.replace("val_", "val/", 1) if name.startswith("val_") else f"train/{name}"
                        self.tensorboard.add_scalar(tag, row[name], row["step"])
            self.tensorboard.flush()

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
