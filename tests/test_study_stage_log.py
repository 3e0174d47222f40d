"""The study's stage log counts a stage's seconds once: a stage reused by the process that ran it (the threshold
set's predictions, read again for every dataset) adds nothing to the study's wall time; one from an earlier run
adds its recorded seconds once."""

import time

from spinedet.study.stages import StageLog


def test_a_stage_is_counted_once_in_the_wall_time(tmp_path):
    log = StageLog(tmp_path)
    calls = []
    log.run("predict", "cmd", lambda: (calls.append(1), time.sleep(0.05)) and None)
    for _ in range(3):
        assert log.run("predict", "cmd", lambda: calls.append(1))["stage"] == "predict"
    assert calls == [1] and log.reused_s == 0.0

    resumed = StageLog(tmp_path)
    recorded = resumed.reuse("predict")["wall_s"]
    for _ in range(3):
        resumed.run("predict", "cmd", lambda: calls.append(1))
    assert calls == [1] and recorded >= 0.05 and resumed.reused_s == recorded
    assert StageLog(tmp_path).reuse("missing") is None
