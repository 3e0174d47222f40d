"""`spinedet study` killed (SIGKILL) in a training stage, run again and killed in a prediction stage, then run to
the end, gives the results of an uninterrupted run (the session's tiny study, conftest); its trainings run side
by side in worker processes, which end with it."""

import json
import re
import signal
import subprocess

from conftest import TINY_STUDY
from killing import kill_when, spinedet

KILLED = -signal.SIGKILL
TRAININGS = {f"train-{kind}-{view}" for kind in ("lumbar", "cervical-transfer", "cervical-scratch")
             for view in ("sagittal", "axial")}
STARTED = re.compile(r"^\[study\] (\S+): (?!.*reused)")  # a stage starting now (not one reused from before)


def started(lines: list[str], prefix: str) -> list[str]:
    """Names of the stages starting with `prefix` that began in these output lines."""
    return [m.group(1) for m in map(STARTED.match, lines) if m and m.group(1).startswith(prefix)]


def test_study_killed_in_training_and_in_prediction_resumes_to_the_uninterrupted_results(tiny_study, tmp_path):
    plan, whole = tiny_study
    out = tmp_path / "study"
    command = spinedet("study", out, "--preset", "tiny", "--config", plan.config,
                       "--max-steps", TINY_STUDY["max_steps"], "--bootstrap", TINY_STUDY["bootstrap"])
    # 1: killed once the transfer from the first lumbar model has started and made its run folder (preprocessing
    # done); trainings run side by side, so others may be running or done by then
    stage = "train-cervical-transfer-sagittal"
    run_dir = out / "models" / "cervical-transfer-sagittal"
    code, lines = kill_when(command, lambda lines: bool(started(lines, stage)) and run_dir.is_dir(), delay_s=0.2)
    assert code == KILLED and {"train-lumbar-sagittal", stage} <= set(started(lines, "train-")), lines[-3:]
    unfinished = {t for t in TRAININGS if not (out / "stages" / f"{t}.json").exists()}
    assert unfinished and not (out / "study.json").exists()  # a one-step training may end before the kill lands
    # 2: killed in the first prediction it starts, before that prediction is written
    code, lines = kill_when(command, lambda lines: bool(started(lines, "predict-")))
    assert code == KILLED, lines[-3:]
    predicting = started(lines, "predict-")[0]
    assert set(started(lines, "train-")) == unfinished  # the killed trainings ran again, the finished ones did not
    assert not (out / "stages" / f"{predicting}.json").exists()
    assert not (out / "predictions" / f"{predicting.removeprefix('predict-')}.json").exists()
    assert not (out / "study.json").exists()
    # 3: to the end
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"[study] {predicting}: " in done.stdout and "[study] 01-data: done before" in done.stdout
    resumed = json.loads((out / "study.json").read_text())
    assert resumed["results"] == whole["results"]
    for path in sorted((plan.out / "predictions").glob("*.json")):  # and every prediction, score for score
        assert json.loads((out / "predictions" / path.name).read_text()) == json.loads(path.read_text()), path.name
