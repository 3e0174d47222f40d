"""Hostile inputs: the settings every family runs under, the CLI run in-process, the promise checked, cases counted.

The promise: exit code 2, one error line naming the file and the problem (warning lines before it allowed), never a
traceback, nothing written (the --out path does not exist afterwards), and a bounded time per case: CPU seconds, since
the machine is shared and wall time is not the case's own (hypothesis's wall-clock deadline is off), with an alarm
that cuts off a hang.
"""

from __future__ import annotations

import contextlib
import io
import re
import signal
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings

from spinedet.cli import main

# Fixed example counts, derandomized: every run tries the same cases, so the counts in docs/benchmarks.md hold.
CASES = {"dicom bytes": 150, "dicom series": 60, "nifti": 200, "mha nrrd": 120, "dataset": 200, "models": 60}
CASE_CPU_S = 10.0  # CPU seconds one CLI run may take (the first detect imports torch: about 3)
CASE_WALL_S = 300  # a run still going after this is a hang, whatever the load of the machine
COUNTS: dict[str, Counter] = {}


def hostile_settings(family: str) -> settings:
    return settings(max_examples=CASES[family], deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])


def record(family: str, outcome: str) -> None:
    COUNTS.setdefault(family, Counter())[outcome] += 1


def run_cli(*args) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `spinedet ARGS` run in-process; any exception escapes and fails the test."""
    out, err = io.StringIO(), io.StringIO()

    def hung(signum, frame):
        raise TimeoutError(f"spinedet {args[0]} still running after {CASE_WALL_S} s: a hang")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(CASE_WALL_S)
    start = time.process_time()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    cpu_s = time.process_time() - start
    assert cpu_s < CASE_CPU_S, f"spinedet {args[0]} took {cpu_s:.1f} CPU s on {args[1:]}"
    return code, out.getvalue(), err.getvalue()


def error_line(code: int, err: str, command: str, under: Path) -> str:
    """The one error line of a refused run, checked: exit 2, no traceback, it names a path under `under` and a problem."""
    assert code == 2, f"exit {code}, expected 2; stderr: {err!r}"
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("spinedet: warning: ") for line in lines[:-1]), err
    match = re.fullmatch(rf"spinedet {command}: error: ({re.escape(str(under))}[^:]*): (.+)", lines[-1])
    assert match, f"not one line naming a file under {under} and its problem: {lines[-1]!r}"
    return lines[-1]


def refused(command: str, under: Path, *args) -> str:
    """Run `spinedet COMMAND ARGS` and return its checked error line."""
    code, _, err = run_cli(command, *args)
    return error_line(code, err, command, under)
