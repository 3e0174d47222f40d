"""Logs a person can read: when stderr is not a terminal, progress is one line when a stage starts and one at its end."""

import io
import subprocess
import sys

from spinedet.progress import LineProgress, progress


def test_line_progress_writes_two_lines_and_no_carriage_return():
    stream = io.StringIO()
    bar = LineProgress(100, "train lumbar sagittal", unit="step", stream=stream)
    for _ in range(100):
        bar.update(1)
        bar.set_postfix(loss="0.123")
    bar.close()
    bar.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and len(lines) == 2
    assert lines[0] == "train lumbar sagittal: started at 0 of 100 step"
    assert lines[1].startswith("train lumbar sagittal: 100/100 step in ") and lines[1].endswith(", loss=0.123")


def test_progress_over_items_yields_them_all(capsys):
    assert list(progress(range(5), "count")) == [0, 1, 2, 3, 4]
    assert capsys.readouterr().err.count("count:") == 2  # pytest's captured stderr is not a terminal


def test_synth_log_in_a_file_has_no_bar_redraws(tmp_path):
    done = subprocess.run([sys.executable, "-m", "spinedet", "synth", str(tmp_path / "data"), "--preset", "tiny"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if "synth tiny" in line]) == 2
