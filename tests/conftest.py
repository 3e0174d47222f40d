"""Shared fixtures: a tiny synthetic cohort made once per session, a private preprocessing cache."""

import shutil
import subprocess
import sys
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


FIT_EPOCHS = 200  # 200 steps on the 3 scans fit all 7 lesions in about 130 s (AVX2 CPU); 150 missed a stenosis


@pytest.fixture(scope="session")
def fitted_sagittal_run(tiny_cohort, tmp_path_factory) -> Path:
    """A run of the small config fitted to the tiny cohort's 3 lumbar sagittal training scans (trained once)."""
    import copy
    import json

    from model_configs import SMALL
    from spinedet.cli import main

    folder = tmp_path_factory.mktemp("fit")
    config = copy.deepcopy(SMALL)
    # fitting, not generalising: no validation needed; augmentation stays on, since the judge must meet its crops at
    # the discs the finder finds, which lie a few mm from the true centres it was trained on
    config["train"].update(val_every=10**6)
    config_path = folder / "fit.json"
    config_path.write_text(json.dumps(config))
    run = folder / "run"
    assert main(["train", str(tiny_cohort), "--view", "sagittal", "--region", "lumbar", "--config", str(config_path),
                 "--out", str(run), "--epochs", str(FIT_EPOCHS)]) == 0
    return run


TINY_PATIENTS = {"C1": {"train": 3, "val": 2}, "C2": {"test": 2}, "C3": {"test": 2}, "C4": {"train": 3, "test": 2},
                 "C5": {"test": 2}}
TINY_STUDY = {"max_steps": 1, "bootstrap": 10}  # one step per training, 10 bootstrap resamples: ~45 s in all


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory):
    """(plan, study.json) of the paper protocol on the tiny cohort's settings with the micro config, run once."""
    import json

    from model_configs import micro_config
    from spinedet.study.protocol import StudyPlan, run_study

    folder = tmp_path_factory.mktemp("tiny-study")
    config = folder / "micro.json"
    config.write_text(json.dumps(micro_config()))
    plan = StudyPlan(out=folder / "study", preset="paper", config=str(config), **TINY_STUDY,
                     synth_overrides={"patients": TINY_PATIENTS, "min_pixel_mm": 2.0, "max_slices": 12, "sub_slices": 2})
    study = run_study(plan)
    return plan, json.loads(json.dumps(study))


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the sources alone (no build/ or *.egg-info left by an earlier install, whose
    file lists would carry the configs in even without the package-data declaration)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "spinedet", source / "spinedet", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(source)], check=True, capture_output=True)
    return next(out.glob("spinedet-*.whl"))


REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def pytest_terminal_summary(terminalreporter):
    """The number of hostile-input cases run per family (tests/hostile.py), when any ran."""
    import sys

    hostile = sys.modules.get("hostile")
    if hostile is None or not hostile.COUNTS:
        return
    terminalreporter.write_sep("-", "hostile input cases run")
    for family, outcomes in hostile.COUNTS.items():
        detail = ", ".join(f"{outcome} {n}" for outcome, n in sorted(outcomes.items()))
        terminalreporter.write_line(f"{family}: {sum(outcomes.values())} cases ({detail})")
