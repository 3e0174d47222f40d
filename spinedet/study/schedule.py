"""The study's trainings side by side: each starts once the trainings it builds on have finished, up to `workers`
at a time, each in a spawned process with an equal share of the cores as torch threads. On a 2-core CPU two
one-thread trainings make about 15% more steps in a given time than two-thread ones run one after the other
(docs/benchmarks.md)."""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Callable

from spinedet.errors import SpinedetError

PARENT_POLL_S = 0.25  # how often a worker checks that the study that started it is still alive


@dataclass(frozen=True)
class Job:
    """One unit of work: `call(*args)`, a module-level function (it is pickled into its worker)."""

    name: str
    call: Callable
    args: tuple
    after: tuple[str, ...] = ()  # names of the jobs that must finish first


def default_workers() -> int:
    """Two at a time on a CPU with two cores or more; one on a GPU (trainings would share its memory)."""
    import torch

    return 1 if torch.cuda.is_available() else min(2, os.cpu_count() or 1)


def run_jobs(jobs: list[Job], workers: int) -> dict[str, object]:
    """Every job's result by name. Ready jobs start in list order; `workers` 1 runs them one after another here.
    A job that fails stops the others and its error is raised here."""
    names = {job.name for job in jobs}
    unknown = {a for job in jobs for a in job.after} - names
    if unknown:
        raise ValueError(f"jobs wait on jobs that are not in the list: {sorted(unknown)}")
    if workers <= 1:
        results: dict[str, object] = {}
        while len(results) < len(jobs):
            job = _next_ready(jobs, results, set())
            if job is None:
                raise ValueError(f"jobs wait on each other: {sorted(names - results.keys())}")
            results[job.name] = job.call(*job.args)
        return results
    return _run_in_processes(jobs, workers)


def _next_ready(jobs: list[Job], finished, started: set[str]) -> Job | None:
    return next((j for j in jobs if j.name not in finished and j.name not in started
                 and all(a in finished for a in j.after)), None)


def _run_in_processes(jobs: list[Job], workers: int) -> dict[str, object]:
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    threads = max(1, (os.cpu_count() or 1) // workers)
    results: dict[str, object] = {}
    running: dict[str, multiprocessing.Process] = {}
    try:
        while len(results) < len(jobs):
            while len(running) < workers and (job := _next_ready(jobs, results, set(running))) is not None:
                running[job.name] = context.Process(target=_work, name=f"spinedet {job.name}",
                                                    args=(job, threads, os.getpid(), messages))
                running[job.name].start()
            if not running:
                raise ValueError(f"jobs wait on each other: {sorted({j.name for j in jobs} - results.keys())}")
            message = _next_message(messages, running)
            if message is None:
                continue
            name, ok, value = message
            running.pop(name).join()
            if not ok:
                raise value  # a SpinedetError stays one line; any other error carries the worker's traceback
            results[name] = value
    finally:
        for process in running.values():
            process.terminate()
            process.join()
    return results


def _next_message(messages, running: dict[str, multiprocessing.Process]) -> tuple | None:
    """A worker's (name, ok, result or error), or None after a second without one; raises for a worker that ended
    without a word (killed, out of memory)."""
    try:
        return messages.get(timeout=1.0)
    except queue.Empty:
        ended = [name for name, process in running.items() if process.exitcode is not None]
    if not ended:
        return None
    try:  # a worker that ended may have sent its result just after the wait above
        return messages.get(timeout=2.0)
    except queue.Empty:
        raise SpinedetError(f"study job {ended[0]} ended without a result "
                            f"(exit code {running[ended[0]].exitcode})") from None


def _work(job: Job, threads: int, parent_pid: int, messages) -> None:
    """In the worker: run the job with `threads` torch threads, plain-line progress, and die with the study."""
    import torch

    from spinedet import progress

    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()
    torch.set_num_threads(threads)
    progress.use_lines()  # bars of two workers would overwrite each other on one terminal
    try:
        messages.put((job.name, True, job.call(*job.args)))
    except BaseException as error:  # noqa: BLE001  (sent to the study, which raises it)
        if not isinstance(error, SpinedetError):
            error.add_note(f"in study job {job.name}:\n{traceback.format_exc().rstrip()}")
        messages.put((job.name, False, error))


def _exit_when_orphaned(parent_pid: int) -> None:
    """A study killed mid-training must not leave its trainings writing: the next run would start them again."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(1)
