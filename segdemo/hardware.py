"""Pick the distribution strategy and mixed-precision policy for the machine at hand.

Several GPUs: MirroredStrategy, mixed_float16.  One GPU: mixed_float16.  A CPU with
native bfloat16 instructions (AVX512-BF16 or AMX): mixed_bfloat16, faster than float32
there (``python -m segdemo.bench`` measures training throughput in both).  Anything else: float32.
"""
import platform
from pathlib import Path

import tensorflow as tf

BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}


def cpu_has_bf16() -> bool:
    cpuinfo = Path("/proc/cpuinfo")
    if platform.system() != "Linux" or not cpuinfo.exists():
        return False
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return bool(BF16_CPU_FLAGS & set(line.split(":", 1)[1].split()))
    return False


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
