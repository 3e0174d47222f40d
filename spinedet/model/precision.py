"""Arithmetic for training and inference: bf16 autocast on CUDA, and on CPUs with AMX bf16 tiles when the config
asks for it (`train.cpu_bf16`); not on CPUs with AVX512-BF16 alone, where two quick-study trainings of the small
config turned NaN (at steps 7 and 51, 2026-12-02) where float32 and AMX bf16 train; channels-last 3D memory on
the CPU, where oneDNN's convolutions run fastest in it. Measured (fwd + bwd, `benchmarks/train_step.py` and by hand):
- AMX CPU, judge on 32 crops: 0.29 s fp32, 0.19 s bf16, 0.13 s bf16 channels-last; finder on 4 windows: 0.42 s fp32,
  0.21 s bf16, 0.29 s bf16 channels-last (so the finder stays contiguous under bf16);
- AVX2 CPU (no bf16 units), fp32: judge on 32 14x56x56 crops 1.36 s -> 0.67 s channels-last; finder on 4 16x128x128
  windows (width 12) 1.68 s -> 0.82 s."""

from __future__ import annotations

import contextlib
import functools

import torch


@functools.cache  # autocast asks every training step; the CPU does not change
def cpu_has_amx_bf16() -> bool:
    """Whether this CPU reports AMX bf16 tiles (Linux /proc/cpuinfo; False where it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as info:
            return any(line.startswith("flags") and " amx_bf16" in line for line in info)
    except OSError:
        return False


def cpu_bf16_available() -> bool:
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
                and cpu_has_amx_bf16())


def uses_bf16(config: dict, device: torch.device) -> bool:
    return device.type == "cuda" or (bool(config["train"].get("cpu_bf16")) and cpu_bf16_available())


def autocast(config: dict, device: torch.device):
    """The autocast context of a config on a device (a no-op where bf16 is not used)."""
    if not uses_bf16(config, device):
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def prepare_model(model: torch.nn.Module, config: dict, device: torch.device) -> torch.nn.Module:
    """The model on `device`; on the CPU its judge (if any) in channels-last 3D memory, and its finder too where
    the arithmetic is float32."""
    model = model.to(device)
    if device.type == "cpu" and hasattr(model, "judge"):
        model.judge.to(memory_format=torch.channels_last_3d)
        if not uses_bf16(config, device):
            model.finder.to(memory_format=torch.channels_last_3d)
    return model
