"""fROC and PR figures: one labelled curve per group, the operating point marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import numpy as np  # noqa: E402

from spinedet.atomic import atomic_path  # noqa: E402
from spinedet.eval.curves import FP_RATES, sensitivity_at  # noqa: E402


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)


def _finish(fig, ax, path: Path, xlabel: str, ylabel: str, title: str) -> None:
    """Axis labels, a 0-1 sensitivity/precision axis, grid and legend, then save."""
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    _save(fig, path)


def plot_froc(curves: dict[str, dict], path: Path, title: str = "fROC") -> None:
    """Sensitivity against false positives per scan (log axis, 0.125-8), one curve per label, CPM in the legend.

    Points are joined linearly, as monai.metrics.froc interpolates them to read the sensitivities.
    """
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for label, c in curves.items():
        fps, sens = c["fps_per_scan"], c["sensitivity"]
        cpm = float(sensitivity_at(fps, sens).mean())
        line, = ax.plot(fps[::-1], sens[::-1], label=f"{label} (CPM {cpm:.3f})")
        if c.get("operating_point"):
            ax.plot(*c["operating_point"]["froc"], "o", color=line.get_color())
    ax.set_xlim(FP_RATES[0] / 1.5, FP_RATES[-1] * 1.5)  # before the log scale: curves may have no positive x
    ax.set_xscale("log", base=2)
    ax.set_xticks(FP_RATES, [f"{r:g}" for r in FP_RATES])
    _finish(fig, ax, path, "mean false positives per scan", "sensitivity", title)


def plot_pr(curves: dict[str, dict], path: Path, title: str = "Precision-recall") -> None:
    """Interpolated precision against recall (the curve whose area is AP), one per label, operating point marked."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for label, c in curves.items():
        recall = np.concatenate([[0.0], c["recall"]])
        first = c["precision"][:1] if len(c["precision"]) else np.zeros(1)
        precision = np.maximum.accumulate(np.concatenate([first, c["precision"]])[::-1])[::-1]
        line, = ax.step(recall, precision, where="pre", label=f"{label} (AP {c.get('ap', float('nan')):.3f})")
        if c.get("operating_point"):
            ax.plot(*c["operating_point"]["pr"], "o", color=line.get_color())
    ax.set_xlim(0, 1.02)
    _finish(fig, ax, path, "recall", "precision", title)
