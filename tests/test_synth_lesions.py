"""Finding prevalence: rises with age, clusters at the lower lumbar and mid cervical levels."""

from collections import Counter

import numpy as np

from spinedet.synth.lesions import sample_lesions


def _findings(region: str, age: float, n: int = 600) -> list:
    rng = np.random.default_rng(7)
    return [sample_lesions(rng, region, age) for _ in range(n)]


def test_prevalence_rises_with_age_and_some_are_healthy():
    young, old = _findings("lumbar", 30), _findings("lumbar", 70)
    assert sum(map(len, old)) > 2 * sum(map(len, young))
    assert 0.1 < np.mean([not f for f in old]) < 0.4  # healthy share includes the 15% drawn healthy
    assert np.mean([len(f) >= 2 for f in old]) > 0.3  # several findings per patient are common


def test_findings_cluster_at_typical_levels():
    lumbar = Counter(les.level for f in _findings("lumbar", 60) for les in f)
    assert lumbar["L4/L5"] + lumbar["L5/S1"] > 2 * (lumbar["L1/L2"] + lumbar["L2/L3"])
    cervical = Counter(les.level for f in _findings("cervical", 60) for les in f)
    assert cervical["C5/C6"] + cervical["C6/C7"] > 2 * (cervical["C2/C3"] + cervical["C3/C4"])
    classes = Counter(les.cls for f in _findings("lumbar", 60) for les in f)
    assert set(classes) == {"herniation", "bulge", "degenerated_disc", "stenosis"}
