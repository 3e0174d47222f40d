"""Batched prediction: scans predicted together agree with each predicted alone (same discs and levels, scores
within SCORE_TOLERANCE) on a set of scans of different shapes, batches holding only scans of one padded finder
shape; the DETR head predicts in batches too; and `detect --batch-size` writes the same findings at any size and
rejects a bad one."""

import json

import pytest
import torch

from model_configs import micro_config, micro_detr_config
from spinedet.cli import main
from spinedet.commands import detect
from spinedet.data.dataset import image_path
from spinedet.infer.level_predictor import find_discs_batch, finder_input, padded_finder_shape
from spinedet.infer.predictor import Predictor, pooled_batches, predict_entries
from spinedet.io.load import load_scan
from spinedet.model.build import build_model
from spinedet.model.run import save_run
from test_detect_cli import _RowPredictor, _write_scan

CLASSES = ["herniation", "bulge", "degenerated_disc", "stenosis", "disc"]
SCORE_TOLERANCE = 1e-4  # batching reorders float sums; rounding in findings is 1e-4


def _predictor(config: dict, seed: int = 0) -> Predictor:
    """A randomly initialised run of `config` (lumbar sagittal); for the level design with the finder's heatmap
    bias raised, so that it finds discs (and the judge scores them) without training."""
    torch.manual_seed(seed)
    model = build_model(config, CLASSES, "lumbar", "sagittal").eval()
    if hasattr(model, "finder"):
        torch.nn.init.constant_(model.finder.heads["heatmap"].bias, 1.0)
    preprocessing = {} if hasattr(model, "finder") else config["input"]  # the DETR head's input windows
    return Predictor(model, {"config": config, "classes": CLASSES, "region": "lumbar", "view": "sagittal",
                             "threshold": 0.5, "preprocessing": preprocessing})


def _sagittal_entries(dataset) -> list[dict]:
    """Lumbar sagittal entries of the tiny cohort, centres interleaved so that neighbours differ in shape."""
    entries = [e for e in json.loads(dataset.read_text())["scans"] if e["view"] == "sagittal" and
               e["region"] == "lumbar" and e["center"] in ("C1", "C2", "C5")]
    return sorted(entries, key=lambda e: (int(e["patient"].split("-")[-1]), e["center"]))[:6]


def _by_key(scan: dict) -> tuple[dict, dict]:
    return ({(f["class"], f["level"]): f["score"] for f in scan["findings"]},
            {d["level"]: d["score"] for d in scan["discs"]})


def _assert_agree(alone: dict, together: dict) -> None:
    assert [s["id"] for s in alone["scans"]] == [s["id"] for s in together["scans"]]
    for a, b in zip(alone["scans"], together["scans"]):
        assert [d["level"] for d in a["discs"]] == [d["level"] for d in b["discs"]]
        (fa, da), (fb, db) = _by_key(a), _by_key(b)
        assert fa.keys() == fb.keys() and da.keys() == db.keys()
        assert all(abs(fa[k] - fb[k]) <= SCORE_TOLERANCE for k in fa)
        assert all(abs(da[k] - db[k]) <= SCORE_TOLERANCE for k in da)


def test_batched_entries_agree_with_one_by_one_on_scans_of_different_shapes(tiny_cohort):
    predictor = _predictor(micro_config())
    entries = _sagittal_entries(tiny_cohort)
    scans = [load_scan(image_path(tiny_cohort, e), view=e["view"], region=e["region"]) for e in entries]
    shapes = [padded_finder_shape(predictor.model, predictor.meta, s, "lumbar") for s in scans]
    assert len(set(shapes)) > 1 and len(set(shapes)) < len(shapes)  # different shapes, and some to batch
    alone = predict_entries([predictor], tiny_cohort, entries, CLASSES[:-1], batch_size=1)
    together = predict_entries([predictor], tiny_cohort, entries, CLASSES[:-1], batch_size=2)
    assert sum(len(s["discs"]) for s in alone["scans"]) > 0 and sum(len(s["findings"]) for s in alone["scans"]) > 0
    _assert_agree(alone, together)


def test_batches_hold_scans_of_one_padded_finder_shape(tiny_cohort):
    predictor = _predictor(micro_config())
    data = json.loads(tiny_cohort.read_text())
    scans = [load_scan(image_path(tiny_cohort, e), view=e["view"], region=e["region"]) for e in data["scans"]]
    for scan in scans:  # the key's shape, from the scan's header alone, is the shape the finder gets
        assert padded_finder_shape(predictor.model, predictor.meta, scan, scan.region) == \
            finder_input(predictor.model, predictor.meta, scan, scan.region).array.shape
    batches = list(pooled_batches(scans, lambda s: predictor.batch_key(s, s.region), 2))
    assert sorted(n for batch in batches for n in map(id, batch)) == sorted(map(id, scans))
    assert all(len(batch) <= 2 and len({predictor.batch_key(s, s.region) for s in batch}) == 1 for batch in batches)
    assert any(len(batch) == 2 for batch in batches)


def test_the_finder_refuses_a_batch_of_different_shapes(tiny_cohort):
    """Zero padding to one shape would change what the finder's convolutions see near a scan's border."""
    predictor = _predictor(micro_config())
    scans = [load_scan(image_path(tiny_cohort, e), view=e["view"], region=e["region"])
             for e in _sagittal_entries(tiny_cohort)]
    shapes = [padded_finder_shape(predictor.model, predictor.meta, s, "lumbar") for s in scans]
    pair = [scans[0], next(s for s, shape in zip(scans, shapes) if shape != shapes[0])]
    with pytest.raises(ValueError, match="different shapes"):
        find_discs_batch(predictor.model, predictor.meta, pair, ["lumbar", "lumbar"])


def test_the_detr_head_predicts_in_batches(tiny_cohort):
    predictor = _predictor(micro_detr_config())
    entries = _sagittal_entries(tiny_cohort)[:3]
    alone = predict_entries([predictor], tiny_cohort, entries, CLASSES[:-1], batch_size=1)
    together = predict_entries([predictor], tiny_cohort, entries, CLASSES[:-1], batch_size=2)
    _assert_agree(alone, together)


def test_detect_rejects_a_batch_size_below_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(detect, "_load_predictors", lambda dirs: [_RowPredictor(*d.name.split("-")) for d in dirs])
    _write_scan(tmp_path / "scan.nii.gz")
    code = main(["detect", str(tmp_path / "scan.nii.gz"), "--model", str(tmp_path / "sagittal-lumbar"),
                 "--out", str(tmp_path / "out"), "--batch-size", "0"])
    assert code == 2 and "--batch-size 0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_detect_on_a_dataset_writes_the_same_findings_at_any_batch_size(tiny_cohort, tmp_path):
    predictor = _predictor(micro_config())
    save_run(tmp_path / "run", predictor.model, predictor.meta)
    data = json.loads(tiny_cohort.read_text())
    entries = [{**e, "image": str(image_path(tiny_cohort, e))} for e in _sagittal_entries(tiny_cohort)]
    (tmp_path / "set.json").write_text(json.dumps({**data, "scans": entries}))
    written = []
    for size in ("1", "2"):
        out = tmp_path / f"out-{size}"
        assert main(["detect", str(tmp_path / "set.json"), "--model", str(tmp_path / "run"), "--out", str(out),
                     "--threshold", "0", "--no-overlays", "--batch-size", size]) == 0
        written.append(json.loads((out / "findings.json").read_text()))
    assert sum(len(s["findings"]) for s in written[0]["scans"]) > 0
    _assert_agree(*written)


def test_pooled_batches_hold_few_items_however_many_keys():
    loaded: list[int] = []

    def load():
        for n in range(100):
            loaded.append(n)
            yield n

    given = 0
    for batch in pooled_batches(load(), key=lambda n: n % 50, batch_size=2, max_waiting=4):
        given += len(batch)
        assert len(loaded) - given <= 4 and len({n % 50 for n in batch}) == 1
    assert given == 100
