"""Batched prediction: scans predicted together agree with each predicted alone (same discs and levels, scores
within SCORE_TOLERANCE) on scans of different shapes; the finder's key-padding mask keeps padded tokens out of the
real tokens' outputs; peaks in a batch's padding are never discs; the DETR head predicts in batches too; and
`detect --batch-size` writes the same findings at any size and rejects a bad one."""

import json

import numpy as np
import torch

from model_configs import micro_config, micro_detr_config
from spinedet.cli import main
from spinedet.commands import detect
from spinedet.data.dataset import image_path
from spinedet.infer import level_predictor
from spinedet.infer.level_predictor import finder_input, padded_finder_shape, zero_padded_batch
from spinedet.infer.predictor import Predictor, pooled_batches, predict_entries
from spinedet.io.load import load_scan
from spinedet.model.build import build_model
from spinedet.model.level_finder import padding_mask
from spinedet.model.run import save_run
from spinedet.model.transformer import EncoderLayer
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


def test_padded_tokens_change_nothing_in_the_real_tokens():
    torch.manual_seed(0)
    layer = EncoderLayer(24, 2, 48, 0.0).eval()
    real, pos = torch.randn(1, 10, 24), torch.randn(1, 10, 24)
    padded = torch.cat([real, 100 * torch.randn(1, 6, 24)], 1)
    padded_pos = torch.cat([pos, torch.randn(1, 6, 24)], 1)
    mask = torch.arange(16)[None] >= 10
    with torch.no_grad():
        alone = layer(real, pos)
        masked = layer(padded, padded_pos, mask)[:, :10]
        unmasked = layer(padded, padded_pos)[:, :10]
    assert torch.allclose(masked, alone, atol=1e-5)
    assert not torch.allclose(unmasked, alone, atol=1e-2)  # the test can tell


def test_padding_mask_marks_the_tokens_beyond_each_scans_own_grid():
    mask = padding_mask((3, 4, 5), torch.tensor([[3, 4, 5], [2, 3, 1]]))
    assert mask.shape == (2, 60) and not mask[0].any()
    inside = ~mask[1].reshape(3, 4, 5)
    assert inside.sum() == 6 and inside[:2, :3, :1].all()


class PoolingBackbone(torch.nn.Module):
    """Stage outputs without spatial overlap (average pools over each stage's cumulative stride): a zero-padded
    scan's own voxels come out of it as they do alone, so a difference in the finder's tokens is the transformer's."""

    def __init__(self, config: dict, widths: list[int]):
        super().__init__()
        steps = [config["finder"]["stem_stride"]] + config["finder"]["stage_strides"]
        self.strides = [tuple(int(v) for v in s) for s in np.cumprod(np.array(steps), axis=0)[1:]]
        self.widths = widths

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [torch.nn.functional.avg_pool3d(x, s, s).expand(-1, w, -1, -1, -1).contiguous()
                for s, w in zip(self.strides, self.widths)]


def test_the_finders_transformer_sees_a_padded_scan_as_it_sees_it_alone():
    """With the mask and each scan's own position grid, a scan's tokens come out of the transformer as they do
    without a batch neighbour (the backbone's convolutions, which do not, replaced by pooling)."""
    torch.manual_seed(0)
    config = micro_config()
    finder = build_model(config, CLASSES, "lumbar", "sagittal").finder.eval()
    finder.backbone = PoolingBackbone(config, finder.backbone.widths)
    small, large = torch.randn(8, 32, 32).numpy(), torch.randn(16, 64, 48).numpy()
    seen = []
    finder.encoder[-1].register_forward_hook(lambda module, args, out: seen.append(out))
    stride = np.asarray(finder.total_stride)
    with torch.no_grad():
        finder(zero_padded_batch([small]))
        finder(zero_padded_batch([small, large]), torch.from_numpy(np.array([small.shape, large.shape]) // stride))
        finder(zero_padded_batch([small, large]))  # no mask, one position grid: the test can tell
    alone, batched, unmasked = seen
    own = tuple(int(n) for n in np.array(small.shape) // stride)
    grid = tuple(int(n) for n in np.array(large.shape) // stride)
    cut = lambda tokens: tokens[0].reshape(*grid, -1)[: own[0], : own[1], : own[2]].reshape(alone.shape)  # noqa: E731
    assert torch.allclose(cut(batched), alone, atol=1e-5)
    assert not torch.allclose(cut(unmasked), alone, atol=1e-2)


def test_peaks_are_sought_only_on_each_scans_own_grid(tiny_cohort, monkeypatch):
    """A scan batched with a larger one: its heatmap peaks come from its own output grid, never the padding."""
    predictor = _predictor(micro_config())
    scans = [load_scan(image_path(tiny_cohort, e), view=e["view"], region=e["region"])
             for e in _sagittal_entries(tiny_cohort)]
    sizes = [int(np.prod(padded_finder_shape(predictor.model, predictor.meta, s, "lumbar"))) for s in scans]
    pair = [scans[int(np.argmin(sizes))], scans[int(np.argmax(sizes))]]
    seen = []
    real_peaks = level_predictor.disc_peaks
    monkeypatch.setattr(level_predictor, "disc_peaks", lambda out, *a: seen.append(out["heatmap"].shape) or
                        real_peaks(out, *a))
    found = predictor.predict_batch(pair, ["lumbar", "lumbar"])
    out_stride = np.asarray(predictor.model.finder.out_stride)
    own = [(1, 1, *(np.asarray(padded_finder_shape(predictor.model, predictor.meta, s, "lumbar")) // out_stride))
           for s in pair]
    assert [tuple(shape) for shape in seen] == [tuple(int(n) for n in o) for o in own] and own[0] != own[1]
    assert found[0][1] and found[1][1]


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
