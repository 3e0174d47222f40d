"""Distributed data parallel under torchrun: nccl on GPUs, gloo on CPU; rank 0 alone writes."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def setup() -> tuple[int, int, torch.device]:
    """(rank, world size, device); initialises the process group when torchrun set WORLD_SIZE > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, world, device


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def shard(indices: list[int], rank: int, world: int) -> list[int]:
    """This rank's share of an epoch's (already shuffled) indices, padded so every rank gets as many."""
    per_rank = -(-len(indices) // world)
    padded = indices + indices[: per_rank * world - len(indices)]
    return padded[rank::world]


def broadcast_buffers(model: torch.nn.Module) -> None:
    """Give every rank rank 0's buffers (batch-norm running statistics differ by rank between steps)."""
    if dist.is_initialized():
        for buffer in model.buffers():
            dist.broadcast(buffer.data, src=0)


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-1 of every parameter and buffer, to compare replicas."""
    import hashlib

    h = hashlib.sha1()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def all_digests(model: torch.nn.Module) -> list[str]:
    """Every rank's weights digest (just this one's outside DDP)."""
    digest = weights_digest(model)
    if not dist.is_initialized():
        return [digest]
    gathered: list = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, digest)
    return gathered
