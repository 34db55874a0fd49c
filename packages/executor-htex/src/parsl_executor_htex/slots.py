"""How many workers a pool runs, and each worker's CPUs and accelerator."""

from __future__ import annotations

import math
import os

__all__ = ["accelerator_env", "affinity_env", "affinity_for", "available_memory_gb", "worker_count"]


def available_memory_gb() -> float | None:
    """Available memory of this node in GB (from /proc/meminfo), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def worker_count(
    max_workers_per_node: float,
    cores_per_worker: float,
    mem_per_worker: float | None,
    accelerators: list[str],
) -> int:
    """Workers that fit this node: the smallest of the cap, cores, memory and accelerators."""
    counts = [
        max_workers_per_node if max_workers_per_node else math.inf,
        math.floor(_cpus() / cores_per_worker) if cores_per_worker > 0 else math.inf,
    ]
    if mem_per_worker:
        mem = available_memory_gb()
        if mem is not None:
            counts.append(math.floor(mem / mem_per_worker))
    if accelerators:
        counts.append(len(accelerators))
    n = min(counts)
    return max(1, int(n)) if n != math.inf else max(1, _cpus())


def _cpu_list(spec: str) -> set[int]:
    """``0,2-4`` -> {0, 2, 3, 4}."""
    cpus: set[int] = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def affinity_for(mode: str, rank: int, count: int) -> set[int] | None:
    """CPUs for worker ``rank``: ``block``/``alternating``/``block-reverse`` or ``list:0,1:2-3``."""
    if not mode or mode == "none" or not hasattr(os, "sched_setaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if mode.startswith("list:"):
        groups = mode[5:].split(":")
        return _cpu_list(groups[rank % len(groups)])
    per = max(1, len(cpus) // max(1, count))
    if mode == "block":
        return set(cpus[rank * per : (rank + 1) * per]) or None
    if mode == "block-reverse":
        rank = count - rank - 1
        return set(cpus[rank * per : (rank + 1) * per]) or None
    if mode == "alternating":
        return set(cpus[rank::count]) or None
    raise ValueError(f"cpu_affinity={mode!r}: use none, block, alternating, block-reverse or list:...")


def affinity_env(cpus: set[int]) -> dict[str, str]:
    """OpenMP settings that keep a worker's threads on its own CPUs."""
    listed = ",".join(str(c) for c in sorted(cpus))
    return {
        "OMP_NUM_THREADS": str(len(cpus)),
        "GOMP_CPU_AFFINITY": listed,
        "KMP_AFFINITY": f"explicit,proclist=[{listed}]",
    }


def accelerator_env(accelerators: list[str], rank: int) -> dict[str, str]:
    """The environment pinning worker ``rank`` to one accelerator (CUDA, ROCm, Level Zero)."""
    if not accelerators:
        return {}
    dev = accelerators[rank % len(accelerators)]
    return {
        "CUDA_VISIBLE_DEVICES": dev,
        "ROCR_VISIBLE_DEVICES": dev,
        "ZE_AFFINITY_MASK": dev,
        "ZE_ENABLE_PCI_ID_DEVICE_ORDER": "1",
    }
