"""It must learn: the small model trained on the tiny cohort finds its training discs and lesions again, and a
disc-like blob at the image edge shifts none of its level names (cut fields of view: benchmarks/level_robustness.py,
since a model fitted to 3 scans cannot show it)."""

import pytest

from spinedet.data.dataset import image_path, read_json
from spinedet.data.fov import copy_rows_to_edge, index_of_z
from spinedet.eval import best_f1_threshold, evaluate
from spinedet.eval.discs import disc_metrics, names_of_found
from spinedet.infer.predictor import Predictor
from spinedet.io.load import load_scan
from spinedet.model.run import load_run
from spinedet.train.validate import predictions_for



@pytest.fixture(scope="module")
def fitted(tiny_cohort, fitted_sagittal_run):
    """(run folder, lumbar sagittal training entries) of the small config fitted to the tiny cohort's 3 scans."""
    entries = [s for s in read_json(tiny_cohort)["scans"]
               if (s["view"], s["region"], s["split"]) == ("sagittal", "lumbar", "train")]
    return fitted_sagittal_run, entries


def test_small_model_recovers_training_lesions(fitted, tiny_cohort):
    run, train_scans = fitted
    model, meta = load_run(run)
    truth = {**read_json(tiny_cohort), "scans": train_scans}
    predictions = predictions_for(model, meta, tiny_cohort, train_scans)
    result = evaluate(truth, predictions, score_threshold=best_f1_threshold(truth, predictions))
    assert result["n_truths"] >= 5
    # one of the 7 may be missed: the small bulge is the class the judge learns last (docs/model.md, ceiling)
    assert result["recall"] >= 0.85 and result["precision"] >= 0.5, result
    assert result["level_accuracy"] >= 0.8
    assert disc_metrics(truth, predictions)["disc_recall"] >= 0.7


def test_a_disc_like_blob_at_the_lower_edge_shifts_no_name(fitted, tiny_cohort):
    """A copy of L5/S1 pasted at the lower image edge (where the old detector's false box below L5/S1 shifted every
    name): each found disc keeps its true name, and the copy takes none that is in view."""
    run, entries = fitted
    predictor = Predictor.from_run(run)
    for entry in entries:
        scan = load_scan(image_path(tiny_cohort, entry), view="sagittal", region="lumbar")
        last = next(d for d in entry["discs"] if d["level"] == "L5/S1")
        doctored = copy_rows_to_edge(scan, *sorted(index_of_z(scan, z) for z in last["box_lps"][2::3]))
        _, found = predictor.predict(doctored, "lumbar")
        pairs = names_of_found(found, entry["discs"])
        assert all(true == named for true, named in pairs), pairs
        # the names are what this guards; how many of the top thoracic discs a 3-scan fit finds varies from run to
        # run (5 to 8 of 8 seen on the AVX2 machine), so at least half must be found for the names to be tested
        assert 2 * len(pairs) >= len(entry["discs"]), pairs
        assert len({d["level"] for d in found}) == len(found)
