"""Inference speed: per-scan seconds, peak memory, FLOPs per forward and achieved GFLOP/s for model configs.

Each config runs in its own subprocess so that its peak resident memory (ru_maxrss) is its own.
Usage: .venv/bin/python benchmarks/infer_speed.py [--configs configs/small.json configs/paper.json]
       [--device cpu|cuda] [--repeats 3] [--threads N] [--scan PATH]
Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SCAN = REPO.parent / "shared" / "realdata" / "lumbar_sag_t2.nii.gz"


def cpu_model() -> str:
    """The `lscpu` model name and core count of this machine."""
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    name = fields.get("Model name", platform.processor() or "unknown").strip()
    return f"{name}, {fields.get('CPU(s)', '?').strip()} logical CPUs"


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def matmul_gflops(device: str, n: int = 2048, repeats: int = 5) -> float:
    """Best-of-`repeats` float32 n x n matmul throughput on `device`, in GFLOP/s (2 n^3 FLOPs per product)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _scan(path: Path | None, view: str):
    """The benchmark scan: a real file when given and present, else a 38 x 201 x 257 1 mm random sagittal volume."""
    import numpy as np

    from spinedet.io.load import load_scan
    from spinedet.io.scan import Scan

    if path is not None and path.is_file():
        return load_scan(path), str(path.name)
    rng = np.random.default_rng(0)
    return Scan(rng.random((38, 201, 257), dtype=np.float32), np.eye(4), view), "random 38x201x257 1 mm"


def measure_config(config_path: Path, device: str, repeats: int, scan_path: Path | None, view: str,
                   bf16: bool, channels_last: bool, compile_model: bool) -> dict:
    """Per-scan seconds (preprocess + forward + outputs back on CPU), forward seconds, FLOPs, peak memory."""
    from torch.utils.flop_counter import FlopCounterMode

    from spinedet.data.dataset import DISC_CLASS, DISEASE_CLASSES
    from spinedet.data.preprocess import prepare
    from spinedet.model.detector import build_detector
    from spinedet.train.config import load_config

    config = load_config(str(config_path))
    pre = config["input"][view]
    scan, scan_name = _scan(scan_path, view)
    rss_before_model = peak_rss_mib()
    torch.manual_seed(0)
    model = build_detector(config, len(DISEASE_CLASSES) + 1, view).eval().to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last_3d)
    n_params = sum(p.numel() for p in model.parameters())
    x = torch.from_numpy(prepare(scan, pre["spacing_mm"], pre["shape"]).array)[None, None].to(device)
    with FlopCounterMode(display=False) as counter:  # with grad enabled: its module tracker needs grad_fns
        model(x)
    flops = counter.get_total_flops()
    runner = torch.compile(model) if compile_model else model
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=bf16)

    def one_scan() -> tuple[float, float]:
        start = time.perf_counter()
        inp = prepare(scan, pre["spacing_mm"], pre["shape"])
        xs = torch.from_numpy(inp.array)[None, None].to(device)
        if channels_last:
            xs = xs.contiguous(memory_format=torch.channels_last_3d)
        _sync(device)
        t_forward = time.perf_counter()
        with torch.no_grad(), autocast:
            out = runner(xs)
        _sync(device)
        forward_s = time.perf_counter() - t_forward
        {k: v.float().cpu() for k, v in out.items() if torch.is_tensor(v)}
        return time.perf_counter() - start, forward_s

    def batch_of_two() -> float:
        """Forward seconds for a batch of two copies (on CPU, batch 1 takes PyTorch's slow_conv3d path)."""
        xs = torch.cat([x, x]).contiguous(memory_format=torch.channels_last_3d) if channels_last else torch.cat([x, x])
        _sync(device)
        start = time.perf_counter()
        with torch.no_grad(), autocast:
            runner(xs)
        _sync(device)
        return time.perf_counter() - start

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    one_scan()  # warm-up (allocator, compilation)
    timings = [one_scan() for _ in range(repeats)]
    scan_s = sorted(t[0] for t in timings)[len(timings) // 2]
    forward_s = sorted(t[1] for t in timings)[len(timings) // 2]
    batch_of_two()
    batch2_s = sorted(batch_of_two() for _ in range(repeats))[repeats // 2]
    result = {
        "config": config.get("name", config_path.stem), "device": device, "threads": torch.get_num_threads(),
        "scan": scan_name, "input_shape": pre["shape"], "input_spacing_mm": pre["spacing_mm"],
        "params_m": n_params / 1e6, "gflop_per_forward": flops / 1e9, "scan_s": scan_s, "forward_s": forward_s,
        "achieved_gflops": flops / forward_s / 1e9, "batch2_forward_s": batch2_s,
        "batch2_achieved_gflops": 2 * flops / batch2_s / 1e9, "peak_rss_mib": peak_rss_mib(),
        "rss_before_model_mib": rss_before_model, "repeats": repeats, "bf16": bf16,
        "channels_last_3d": channels_last, "compile": compile_model,
    }
    if device == "cuda":
        result["cuda_peak_allocated_mib"] = torch.cuda.max_memory_allocated() / 2**20
        result["gpu"] = torch.cuda.get_device_name()
    return result


def markdown(results: list[dict], matmul: float, machine: str) -> str:
    """The results as a Markdown table, with the matmul reference and the machine."""
    lines = [
        f"Machine: {machine}; torch {torch.__version__}; float32 matmul (2048^3, best of 5): {matmul:.1f} GFLOP/s "
        f"with {results[0]['threads'] if results else '?'} thread(s).",
        "",
        "| config | device | input (voxels) | params (M) | GFLOP/forward | forward s | per-scan s | achieved GFLOP/s "
        "| % of matmul | batch-2 forward s (GFLOP/s) | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['config']} | {r['device']} | {'x'.join(map(str, r['input_shape']))} | {r['params_m']:.1f} "
            f"| {r['gflop_per_forward']:.1f} | {r['forward_s']:.2f} | {r['scan_s']:.2f} | {r['achieved_gflops']:.1f} "
            f"| {100 * r['achieved_gflops'] / matmul:.0f}% | {r['batch2_forward_s']:.2f} ({r['batch2_achieved_gflops']:.1f}) "
            f"| {r['peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", type=Path, default=[REPO / "configs" / "small.json",
                                                                     REPO / "configs" / "paper.json"])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="CPU threads (torch)")
    parser.add_argument("--scan", type=Path, default=DEFAULT_SCAN, help="scan to time (random volume if absent)")
    parser.add_argument("--view", default="sagittal", choices=("sagittal", "axial"))
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast for the forward")
    parser.add_argument("--channels-last-3d", action="store_true", help="channels_last_3d model and input")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # internal: measure one config, print JSON
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    if args.one:
        print(json.dumps(measure_config(args.one, args.device, args.repeats, args.scan, args.view, args.bf16,
                                        args.channels_last_3d, args.compile)))
        return 0
    matmul = matmul_gflops(args.device)
    results = []
    for config in args.configs:
        command = [sys.executable, __file__, "--one", str(config), "--device", args.device, "--repeats",
                   str(args.repeats), "--threads", str(args.threads), "--scan", str(args.scan), "--view", args.view]
        command += [flag for flag, on in (("--bf16", args.bf16), ("--channels-last-3d", args.channels_last_3d),
                                          ("--compile", args.compile)) if on]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{config}: measurement failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    print(markdown(results, matmul, cpu_model() if args.device == "cpu" else results[0].get("gpu", "cuda")))
    if args.json:
        args.json.write_text(json.dumps({"matmul_gflops": matmul, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
