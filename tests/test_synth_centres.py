"""Centres differ the way hospitals do: contrast, noise and intensity scale of the same patient."""

import itertools

import numpy as np
import pytest

from spinedet.synth import tissues as T
from spinedet.synth.cohort import patient_rng
from spinedet.synth.patient import make_patient, render_scan
from spinedet.synth.scanner import CENTRES, coarsened

SUB = 2
LUMBAR_CENTRES = ("C1", "C2", "C3", "C5")


def _stats(centre: str) -> dict:
    """Median CSF, marrow, muscle and fat intensity, and noise from air, on the same lumbar patient."""
    profile = coarsened(CENTRES[centre], 1.5)
    rng = patient_rng(5, "C1", 1)  # one anatomy, rendered by each centre's scanner
    scan = render_scan(make_patient("p", profile, rng), "sagittal", profile, rng, SUB)
    pure = scan.labels.reshape(-1, SUB, *scan.labels.shape[1:])
    same = (pure == pure[:, :1]).all(axis=1)
    label = pure[:, 0]
    value = {name: float(np.median(scan.image[same & (label == code)]))
             for name, code in (("csf", T.CSF), ("marrow", T.MARROW), ("muscle", T.MUSCLE), ("fat", T.FAT))}
    air = scan.image[same & (label == T.AIR)].astype(float)
    value["noise"] = float(air.mean()) / np.sqrt(np.pi / 2)  # Rayleigh mean = sigma sqrt(pi/2)
    return value


@pytest.fixture(scope="module")
def stats():
    return {c: _stats(c) for c in LUMBAR_CENTRES}


def test_tissue_order_is_t2_weighted(stats):
    for s in stats.values():
        assert s["csf"] > s["marrow"] > s["muscle"] and s["fat"] > s["muscle"]
        assert s["muscle"] > 3 * s["noise"]


def test_centres_differ_in_contrast_noise_and_scale(stats):
    for a, b in itertools.combinations(LUMBAR_CENTRES, 2):
        sa, sb = stats[a], stats[b]
        contrast = abs(np.log((sa["csf"] / sa["muscle"]) / (sb["csf"] / sb["muscle"])))
        snr = abs(np.log((sa["muscle"] / sa["noise"]) / (sb["muscle"] / sb["noise"])))
        scale = abs(np.log(sa["csf"] / sb["csf"]))
        assert contrast > 0.05 and snr > 0.1 and scale > 0.3, (a, b, sa, sb)
