"""Grades from the model: the cumulative-logit head gives ordered, normalised grade probabilities, its loss is the
summed per-threshold BCE, a run whose config lacks `judge.grade_head` loads and grades nothing, and a run with the
head writes grade, grade_probability and grade_probabilities into findings.json, findings.csv and the per-level
table; each grade trunk moves only its classes' grades, and a run saved with the old trunk names loads."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from model_configs import micro_config
from spinedet.data.dataset import validate
from spinedet.data.grades import GRADES
from spinedet.infer.findings import findings_csv_text, predictions_dataset, scan_record
from spinedet.infer.level_predictor import judge_discs
from spinedet.infer.overlay import _label
from spinedet.io.scan import Scan
from spinedet.model.build import build_model
from spinedet.model.ordinal import CumulativeThresholds, grade_probabilities, ordinal_loss, threshold_mask
from spinedet.model.run import load_run, save_run
from spinedet.report.join import patient_entry
from spinedet.train.config import load_config

CLASSES = ["herniation", "bulge", "degenerated_disc", "stenosis", "disc"]


def test_grade_probabilities_are_ordered_and_sum_to_one():
    torch.manual_seed(0)
    head = CumulativeThresholds([2, 0, 3, 3])
    with torch.no_grad():
        head.first.normal_(0, 3)
        head.steps.normal_(0, 5)  # any raw steps: the thresholds stay ordered
    logits = head(torch.randn(500, 4) * 4)  # (N, C, T)
    assert torch.all(logits[..., 1:] <= logits[..., :-1])
    for c, count in enumerate([2, 0, 3, 3]):
        if count:
            p = grade_probabilities(logits[:, c], count)
            assert p.shape == (500, count) and torch.all(p >= 0)
            assert torch.allclose(p.sum(-1), torch.ones(500))


def test_untrained_thresholds_give_every_grade_the_same_probability():
    logits = CumulativeThresholds([2, 0, 3, 5])(torch.zeros(1, 4))[0]
    for c, count in enumerate([2, 0, 3, 5]):
        if count:
            assert torch.allclose(grade_probabilities(logits[c], count), torch.full((count,), 1 / count), atol=1e-6)


def test_ordinal_loss_is_the_summed_threshold_bce():
    logits = torch.tensor([[0.3, -1.2], [2.0, 0.5], [-0.7, 0.0]])
    grades = torch.tensor([0, 2, 1])
    mask = threshold_mask([3, 3, 2], 2)
    by_hand = (F.binary_cross_entropy_with_logits(torch.tensor(0.3), torch.tensor(0.0))
               + F.binary_cross_entropy_with_logits(torch.tensor(-1.2), torch.tensor(0.0))
               + F.binary_cross_entropy_with_logits(torch.tensor(2.0), torch.tensor(1.0))
               + F.binary_cross_entropy_with_logits(torch.tensor(0.5), torch.tensor(1.0))
               + F.binary_cross_entropy_with_logits(torch.tensor(-0.7), torch.tensor(1.0))) / 3  # row 3: 1 threshold
    assert torch.isclose(ordinal_loss(logits, grades, mask), by_hand)


def _meta(config: dict) -> dict:
    return {"config": config, "classes": CLASSES, "region": "lumbar", "view": "sagittal", "preprocessing": {}}


def _scan() -> Scan:
    affine = np.diag([3.5, 0.8, 0.8, 1.0])
    return Scan.from_array(np.random.default_rng(0).normal(100, 20, (12, 160, 120)).astype(np.float32), affine,
                           slice_axis=0, view="sagittal")


def _judged(run) -> list[dict]:
    model, meta = load_run(run)
    scan = _scan()
    centre = scan.affine @ np.array([5.5, 80.0, 60.0, 1.0])
    discs = [{"level": "L4/L5", "centre_lps": centre[:3]}, {"level": "L5/S1", "centre_lps": centre[:3] - [0, 0, 30]}]
    with torch.no_grad():
        return judge_discs(model, meta, scan, "lumbar", discs)


def test_a_run_without_the_option_loads_and_grades_nothing(tmp_path):
    config = micro_config()
    del config["judge"]["grade_head"]  # a checkpoint written before the option existed
    model = build_model(config, CLASSES, "lumbar", "sagittal")
    save_run(tmp_path / "old", model, _meta(config))
    findings = _judged(tmp_path / "old")
    assert len(findings) == 8 and not any("grade" in f for f in findings)


def test_a_run_with_the_head_grades_every_graded_class(tmp_path):
    config = micro_config()
    config["judge"]["grade_head"] = True
    save_run(tmp_path / "graded", build_model(config, CLASSES, "lumbar", "sagittal"), _meta(config))
    findings = _judged(tmp_path / "graded")
    for f in findings:
        scale = GRADES.get(f["class"])
        if scale is None:
            assert "grade" not in f
            continue
        assert list(f["grade_probabilities"]) == list(scale)
        assert f["grade_probability"] == max(f["grade_probabilities"].values())
        assert f["grade"] == max(scale, key=f["grade_probabilities"].get)
    record = scan_record({"id": "s", "patient": "p", "center": "C1", "region": "lumbar", "view": "sagittal",
                          "image": "s.nii.gz"}, findings, [])
    data = predictions_dataset([record], CLASSES[:-1])
    assert validate(data) == []
    rows = [line.split(",") for line in findings_csv_text(data, {}).splitlines()]
    grade, probability = rows[0].index("grade"), rows[0].index("grade_probability")
    by_class = {row[1]: row for row in rows[1:]}
    assert by_class["stenosis"][grade] in GRADES["stenosis"] and float(by_class["stenosis"][probability]) > 1 / 3
    assert by_class["bulge"][grade] == "" and by_class["bulge"][probability] == ""
    entry = patient_entry("p", [record], {}, {"s": 0.0})
    joined = [f for level in entry["levels"] for f in level["findings"]]
    assert joined and all(("grade" in f) == (f["class"] in GRADES) for f in joined)
    assert all(f["grade"] == f["sagittal"]["grade"] for f in joined if "grade" in f)


def test_the_shipping_configs_grade():
    assert all(load_config(name)["judge"]["grade_head"] is True for name in ("small", "paper"))


def test_overlay_labels_show_a_predicted_grade_with_its_probability_and_a_truth_grade_alone():
    predicted = {"class": "stenosis", "level": "L4/L5", "score": 0.9, "grade": "severe", "grade_probability": 0.71}
    assert _label(predicted) == "stenosis L4/L5 0.90 severe 0.71"
    assert _label({"class": "degenerated_disc", "level": "L1/L2", "score": 0.0, "grade": "V"}) == \
        "degenerated_disc L1/L2 0.00 V"


@pytest.mark.parametrize("trunk_classes", [["degenerated_disc"], [["degenerated_disc"], ["stenosis"]]])
def test_each_grade_trunk_moves_only_its_classes_grades(trunk_classes):
    """`judge.grade_trunk` adds trunks of their own to the grades of the classes each names, and to no other output."""
    config = micro_config()
    config["judge"].update(grade_head=True, grade_trunk={"base_width": 4, "classes": trunk_classes})
    judge = build_model(config, CLASSES, "lumbar", "sagittal").judge.eval()
    crops, levels, valid = torch.randn(1, 2, *_crop_shape(config)), torch.tensor([[3, 4]]), torch.ones(1, 2).bool()
    groups = trunk_classes if isinstance(trunk_classes[0], list) else [trunk_classes]
    assert len(judge.grade_trunks) == len(groups)
    for trunk, group in zip(judge.grade_trunks, groups):
        with torch.no_grad():
            before = judge(crops, levels, valid)
            trunk.score.bias.add_(1.0)
            after = judge(crops, levels, valid)
        moved = (after["grade_logits"] - before["grade_logits"]).abs().amax(dim=(0, 1, 3)) > 0.5
        assert moved.tolist() == [name in group for name in CLASSES if name != "disc"]
        assert all(torch.equal(before[k], after[k]) for k in ("logits", "boxes", "masks"))


def test_a_run_saved_with_one_grade_trunk_under_its_old_names_loads(tmp_path):
    """Runs written before several trunks named the trunk `judge.grade_trunk.*` and `judge.grade_trunk_score.*`."""
    config = micro_config()
    config["judge"].update(grade_head=True, grade_trunk={"base_width": 4, "classes": ["degenerated_disc"]})
    model = build_model(config, CLASSES, "lumbar", "sagittal")
    save_run(tmp_path, model, _meta(config))
    weights = load_file(str(tmp_path / "model.safetensors"))
    old_names = {key.replace("grade_trunks.0.backbone.", "grade_trunk.").replace("grade_trunks.0.score.",
                                                                                  "grade_trunk_score."): tensor
                 for key, tensor in weights.items()}
    assert any(key.startswith("judge.grade_trunk_score.") for key in old_names)
    save_file(old_names, str(tmp_path / "model.safetensors"))
    loaded, _ = load_run(tmp_path)
    assert all(torch.equal(tensor, loaded.state_dict()[key]) for key, tensor in model.state_dict().items())


def _crop_shape(config: dict) -> list[int]:
    return config["input"]["lumbar"]["sagittal"]["crop"]["shape"]


def test_the_grade_trunk_classes_may_differ_per_view():
    """`small` gives the sagittal trunk degenerated disc and stenosis, the axial one degenerated disc only."""
    from spinedet.train.config import load_config

    config = load_config("small")
    names = [c for c in CLASSES if c != "disc"]
    for view, expected in (("sagittal", [["degenerated_disc", "stenosis"]]), ("axial", [["degenerated_disc"]])):
        judge = build_model(config, CLASSES, "lumbar", view).judge
        assert [[names[k] for k in trunk.classes.tolist()] for trunk in judge.grade_trunks] == expected
