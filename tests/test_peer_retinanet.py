"""benchmarks/peer_retinanet.py end to end on a tiny lumbar study: peer.json's schema, budgets from the stage
records, and every row's figures as spinedet.eval gives them from the predictions the benchmark kept."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model_configs import micro_config
from spinedet.data.dataset import read_json
from spinedet.study import protocol
from spinedet.study.evaluation import evaluate_role
from spinedet.study.stages import StageLog

ROOT = Path(__file__).resolve().parents[1]
ROW_KEYS = {"detector", "dataset", "view", "f1", "cpm", "ap", "train_s", "infer_s_per_scan", "peak_rss_mb"}
DATASETS = ("internal", "external1", "external2")


@pytest.fixture(scope="module")
def lumbar_study(tiny_cohort, tmp_path_factory) -> Path:
    """The study's lumbar sagittal stages only (sets, a training of two steps, its predictions) on the tiny cohort."""
    out = tmp_path_factory.mktemp("peer") / "study"
    config = out.parent / "micro.json"
    config.write_text(json.dumps(micro_config()))
    plan = protocol.StudyPlan(out=out, data=tiny_cohort, config=str(config), max_steps=2)
    out.mkdir(parents=True)
    log = StageLog(out)
    set_paths = protocol._make_sets(plan, tiny_cohort)
    protocol.train_stage(plan, "lumbar-sagittal", set_paths["lumbar-train"], "sagittal", "lumbar")
    for name in DATASETS:
        protocol._predict(plan, log, "lumbar-sagittal", name, set_paths[name], "sagittal")
    return out


def test_peer_json_rows_are_spinedet_eval_figures(lumbar_study, tmp_path):
    out = tmp_path / "peer"
    # a budget of about a second per RetinaNet (the tiny trainings take a few seconds); narrow widths keep it quick
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "peer_retinanet.py"), str(lumbar_study),
                           "--out", str(out), "--views", "sagittal", "--budget-factor", "0.3", "--widen", "0.25",
                           "--fpn-channels", "8"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    peer = json.loads((out / "peer.json").read_text())
    stages = {"sagittal": read_json(lumbar_study / "stages" / "train-lumbar-sagittal.json")["wall_s"]}
    assert peer["budget_s"] == pytest.approx(stages)
    model = read_json(out / "models" / "retinanet-sagittal-x0.3" / "model.json")
    assert model["budget_s"] == pytest.approx(0.3 * stages["sagittal"]) and model["train_scans"] == 3
    rows = peer["rows"]
    assert [(r["detector"], r["view"], r["dataset"]) for r in rows] == [
        (d, "sagittal", s) for d in ("spinedet", "retinanet") for s in DATASETS]
    for r in rows:
        assert ROW_KEYS <= set(r)
        assert all(0.0 <= r[k] <= 1.0 for k in ("f1", "cpm", "ap"))
        assert r["infer_s_per_scan"] > 0 and r["peak_rss_mb"] > 100 and r["train_s"] > 0
        if r["detector"] == "retinanet":
            assert r["steps"] >= 1 and r["train_s"] >= 0.3 * stages["sagittal"]  # trained for its whole budget
    for r in rows:  # each row is spinedet.eval's result on the predictions it names, at the internal threshold
        preds = out / "predictions" / (f"spinedet-{r['view']}" if r["detector"] == "spinedet"
                                       else f"retinanet-{r['view']}-x0.3")
        expected, _ = evaluate_role(read_json(lumbar_study / "sets" / f"{r['dataset']}.json"),
                                    read_json(preds / f"{r['dataset']}.json"),
                                    read_json(lumbar_study / "sets" / "internal.json"), read_json(preds / "internal.json"),
                                    view=r["view"], bootstrap=0, seed=0)
        assert (r["f1"], r["cpm"], r["ap"], r["threshold"]) == (expected["f1"], expected["cpm"], expected["ap"],
                                                               expected["threshold"])
    spinedet_preds = read_json(out / "predictions" / "spinedet-sagittal" / "external1.json")
    assert spinedet_preds == read_json(lumbar_study / "predictions" / "lumbar-sagittal--external1.json")
    retina_preds = read_json(out / "predictions" / "retinanet-sagittal-x0.3" / "internal.json")
    assert retina_preds["scans"] and all(f["level"] is None for s in retina_preds["scans"] for f in s["findings"])
    assert "| retinanet | 0.3x | sagittal | internal |" in (out / "peer.md").read_text()
