"""Smoke test: `spinedet detect` on the real lumbar T2 scan with an untrained small model (outputs well-formed)."""

import csv
import json
from pathlib import Path

import pytest
import torch

from spinedet import cli
from spinedet.data.dataset import DISC_CLASS, DISEASE_CLASSES, validate
from spinedet.data.levels import ALL_LEVELS
from spinedet.infer.findings import NOTICE
from spinedet.model.build import build_model
from spinedet.model.run import save_run
from spinedet.train.config import load_config

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
LUMBAR = REALDATA / "lumbar_sag_t2.nii.gz"


def _untrained_run(run_dir: Path) -> None:
    torch.manual_seed(0)
    config = load_config("small")
    config["train"]["score_floor"] = 0.0  # every (disc, class) comes out, so levels and overlays all run
    classes = list(DISEASE_CLASSES) + [DISC_CLASS]
    model = build_model(config, classes, "lumbar", "sagittal")
    torch.nn.init.constant_(model.finder.heads["heatmap"].bias, 2.0)  # untrained: every local maximum is a candidate
    meta = {"config": config, "classes": classes, "view": "sagittal", "region": "lumbar", "threshold": 0.5,
            "preprocessing": {"sagittal": config["input"]["lumbar"]["sagittal"]}}
    save_run(run_dir, model, meta)


@pytest.mark.skipif(not LUMBAR.is_file(), reason="shared/realdata is absent")
def test_detect_real_lumbar_untrained(tmp_path, capsys):
    _untrained_run(tmp_path / "run")
    out = tmp_path / "out"
    rc = cli.main(["detect", str(LUMBAR), "--model", str(tmp_path / "run"), "--out", str(out), "--threshold", "0"])
    assert rc == 0
    data = json.loads((out / "findings.json").read_text())
    assert validate(data, out) == []
    scan = data["scans"][0]
    assert scan["id"] == "lumbar_sag_t2" and scan["view"] == "sagittal" and scan["region"] == "lumbar"
    assert scan["findings"] or scan["discs"]
    levels = [d["level"] for d in scan["discs"]]
    assert all(lv in ALL_LEVELS for lv in levels) and len(set(levels)) == len(levels)
    assert [ALL_LEVELS.index(lv) for lv in levels] == sorted(ALL_LEVELS.index(lv) for lv in levels)  # head to foot
    named = {d["level"] for d in scan["discs"]} - {None}
    assert all(f["level"] in named if named else f["level"] is None for f in scan["findings"])
    rows = list(csv.DictReader((out / "findings.csv").open()))
    assert len(rows) == len(scan["findings"])
    assert all((out / r["overlay"]).is_file() and r["notice"] == NOTICE for r in rows)
    assert (out / "overlays" / "lumbar_sag_t2" / "overview.png").is_file()
    assert "lumbar_sag_t2 (lumbar sagittal): discs" in capsys.readouterr().out
