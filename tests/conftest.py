"""Shared fixtures: a tiny synthetic cohort made once per session, a private preprocessing cache."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Keep the preprocessing cache of the test session out of the user's home."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SPINEDET_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def tiny_cohort(tmp_path_factory) -> Path:
    """dataset.json of the synthetic `tiny` preset (seed 0)."""
    from spinedet.synth import generate

    return generate(tmp_path_factory.mktemp("tiny") / "data", preset="tiny", seed=0)


REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
