"""Pick the distribution strategy and mixed-precision policy for the machine at hand.

Several GPUs: MirroredStrategy, mixed_float16.  One GPU: mixed_float16.  A CPU with
native bfloat16 instructions (AVX512-BF16 or AMX): mixed_bfloat16, faster than float32
there (``python -m tools.bench`` measures training throughput in both).  Anything else: float32.
"""
import os
import platform
from pathlib import Path

import tensorflow as tf

BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}


def _cpuinfo_field(name):
    """The first value of ``name`` in /proc/cpuinfo, or None off Linux."""
    cpuinfo = Path("/proc/cpuinfo")
    if platform.system() != "Linux" or not cpuinfo.exists():
        return None
    for line in cpuinfo.read_text().splitlines():
        if line.split(":", 1)[0].strip() == name:
            return line.split(":", 1)[1].strip()
    return None


def cpu_has_bf16() -> bool:
    return bool(BF16_CPU_FLAGS & set((_cpuinfo_field("flags") or "").split()))


def available_cores() -> int:
    """Cores this process may really use: its CPU affinity, capped by a cgroup CPU quota.

    A container (a Hugging Face Space's 2 vCPUs, say) often sees every core of its host in
    ``os.cpu_count()``; sizing a thread pool from that only makes the threads fight.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(cores, quota)) if quota else cores


def _cgroup_cpu_quota():
    """The cgroup's CPU limit in whole cores (v2 ``cpu.max`` or v1 CFS files), or None if unlimited."""
    for quota_file, period_file in (("/sys/fs/cgroup/cpu.max", None),
                                    ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us")):
        try:
            fields = Path(quota_file).read_text().split()
            quota, period = fields[0], (fields[1] if period_file is None else Path(period_file).read_text().strip())
        except (OSError, IndexError):
            continue
        if quota in ("max", "-1"):
            return None
        return max(1, round(int(quota) / int(period)))
    return None


def describe_machine() -> str:
    """What a benchmark ran on, so a figure can be read against its machine."""
    gpus = tf.config.list_physical_devices("GPU")
    cpu = _cpuinfo_field("model name") or platform.processor() or "unknown CPU"
    return (f"{cpu}, {available_cores()} usable cores, native bfloat16: {'yes' if cpu_has_bf16() else 'no'}, "
            f"GPUs: {len(gpus)}")


def choose_precision(allow_bf16=True) -> str:
    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16"
    return "mixed_bfloat16" if allow_bf16 and cpu_has_bf16() else "float32"


def choose_strategy(devices=None):
    """MirroredStrategy over ``devices`` or over all GPUs when there are several."""
    if devices:
        return tf.distribute.MirroredStrategy(devices)
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def set_precision(policy: str):
    tf.keras.mixed_precision.set_global_policy(policy)
    return policy
