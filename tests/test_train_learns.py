"""It must learn: the small model trained on the tiny cohort finds its training discs and lesions again."""

import copy
import json

from spinedet.cli import main
from spinedet.data.dataset import read_json
from spinedet.eval import best_f1_threshold, evaluate
from spinedet.eval.discs import disc_metrics
from spinedet.model.run import load_run
from spinedet.train.validate import predictions_for
from model_configs import SMALL

EPOCHS = 150  # 150 steps on the 3 scans fit all 7 lesions in ~65 s here


def test_small_model_recovers_training_lesions(tiny_cohort, tmp_path):
    config = copy.deepcopy(SMALL)
    # fitting, not generalising: no validation needed; augmentation stays on, since the judge must meet its crops at
    # the discs the finder finds, which lie a few mm from the true centres it was trained on
    config["train"].update(val_every=10**6)
    config_path = tmp_path / "fit.json"
    config_path.write_text(json.dumps(config))
    run = tmp_path / "run"
    assert main(["train", str(tiny_cohort), "--view", "sagittal", "--region", "lumbar", "--config", str(config_path),
                 "--out", str(run), "--epochs", str(EPOCHS)]) == 0
    model, meta = load_run(run)
    data = read_json(tiny_cohort)
    train_scans = [s for s in data["scans"] if (s["view"], s["region"], s["split"]) == ("sagittal", "lumbar", "train")]
    truth = {**data, "scans": train_scans}
    predictions = predictions_for(model, meta, tiny_cohort, train_scans)
    result = evaluate(truth, predictions, score_threshold=best_f1_threshold(truth, predictions))
    assert result["n_truths"] >= 5
    # one of the 7 may be missed: the small bulge is the class the judge learns last (docs/model.md, ceiling)
    assert result["recall"] >= 0.85 and result["precision"] >= 0.5, result
    assert result["level_accuracy"] >= 0.8
    assert disc_metrics(truth, predictions)["disc_recall"] >= 0.7
