"""Scans per second of `spinedet synth` for a preset, on a subset of its patients (single process by default)."""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time

from spinedet.synth import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--patients", type=int, default=4, help="patients per centre")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="print the 15 costliest functions")
    args = parser.parse_args()
    patients = {"C1": {"train": args.patients}, "C2": {"test": args.patients}, "C3": {"test": args.patients},
                "C4": {"train": args.patients}}
    with tempfile.TemporaryDirectory() as tmp:
        profiler = cProfile.Profile() if args.profile else None
        start, cpu_start = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        generate(f"{tmp}/out", args.preset, seed=0, workers=args.workers, patients=patients)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)
    scans = 2 * 4 * args.patients
    print(f"preset {args.preset}: {scans} scans in {seconds:.1f} s = {scans / seconds:.2f} scans/s "
          f"({args.workers} worker(s)); this process used {cpu_seconds:.1f} CPU s = {scans / cpu_seconds:.2f} scans "
          f"per CPU second (meaningful with 1 worker; the wall figure depends on the machine's load)")


if __name__ == "__main__":
    main()
