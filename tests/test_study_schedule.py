"""The study's trainings side by side (spinedet.study.schedule): order, overlap, threads, failures, orphans."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from spinedet.errors import SpinedetError
from spinedet.study.schedule import Job, run_jobs


def timed_sleep(seconds: float) -> tuple[float, float]:
    """(start, end) wall-clock times of a sleep, comparable across processes."""
    start = time.time()
    time.sleep(seconds)
    return start, time.time()


def worker_facts() -> tuple[int, int]:
    import torch

    return os.getpid(), torch.get_num_threads()


def fail(message: str) -> None:
    raise SpinedetError(message)


def die(code: int) -> None:
    os._exit(code)


def test_jobs_start_after_those_they_need_and_run_two_at_a_time():
    jobs = [Job("a", timed_sleep, (1.0,)), Job("b", timed_sleep, (1.0,)), Job("c", timed_sleep, (0.1,), after=("a",))]
    times = run_jobs(jobs, workers=2)
    assert times["b"][0] < times["a"][1] and times["a"][0] < times["b"][1]  # a and b overlap
    assert times["c"][0] >= times["a"][1]


def test_workers_share_the_cores_as_torch_threads_and_one_worker_runs_here():
    (pid, threads), = run_jobs([Job("facts", worker_facts, ())], workers=2).values()
    assert pid != os.getpid() and threads == max(1, (os.cpu_count() or 1) // 2)
    (pid, _), = run_jobs([Job("facts", worker_facts, ())], workers=1).values()
    assert pid == os.getpid()


def test_a_failing_job_raises_its_error_and_stops_the_others():
    start = time.perf_counter()
    with pytest.raises(SpinedetError, match="bad data"):
        run_jobs([Job("slow", timed_sleep, (60.0,)), Job("bad", fail, ("bad data",))], workers=2)
    assert time.perf_counter() - start < 30


def test_a_worker_that_dies_is_named_with_its_exit_code():
    with pytest.raises(SpinedetError, match="job dying ended without a result .exit code 3"):
        run_jobs([Job("dying", die, (3,))], workers=2)


@pytest.mark.parametrize("workers", [1, 2])
def test_jobs_that_wait_on_missing_or_each_other_are_refused(workers):
    with pytest.raises(ValueError, match="not in the list"):
        run_jobs([Job("a", timed_sleep, (0.0,), after=("z",))], workers)
    with pytest.raises(ValueError, match="wait on each other"):
        run_jobs([Job("a", timed_sleep, (0.0,), after=("b",)), Job("b", timed_sleep, (0.0,), after=("a",))], workers)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_workers_end_when_the_study_is_killed(tmp_path):
    pid_file = tmp_path / "worker.pid"
    script = textwrap.dedent(f"""
        import os, time
        from spinedet.study.schedule import Job, run_jobs
        from test_study_schedule import write_pid_and_sleep
        run_jobs([Job("long", write_pid_and_sleep, ({str(pid_file)!r},))], workers=2)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), *sys.path])}
    study = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    os.kill(study.pid, signal.SIGKILL)
    study.wait()
    deadline = time.monotonic() + 5
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker)


def write_pid_and_sleep(path: str) -> None:
    with open(path + ".part", "w") as f:
        f.write(str(os.getpid()))
    os.replace(path + ".part", path)
    time.sleep(120)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie left for init to reap counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def index_error() -> None:
    return [][0]


def test_an_unexpected_error_keeps_the_worker_traceback():
    with pytest.raises(IndexError) as raised:
        run_jobs([Job("broken", index_error, ())], workers=2)
    assert any("in study job broken" in note and "return [][0]" in note for note in raised.value.__notes__)
