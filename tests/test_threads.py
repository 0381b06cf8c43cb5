"""The served app gives each TensorFlow pass one thread and lets requests run side by side;
everywhere else passes keep TensorFlow's pool and take turns (segdemo.serving.threads)."""
import subprocess
import sys
import threading

import segdemo  # noqa: F401  (before TensorFlow)
from segdemo.serving import threads

SERVED = """
import contextlib
from segdemo.serving import threads
threads.one_thread_per_request()
import tensorflow as tf
assert tf.config.threading.get_intra_op_parallelism_threads() == 1
assert isinstance(threads.pass_turn(), contextlib.nullcontext)
print(tf.reduce_sum(tf.ones((64, 64))).numpy())
"""


def test_with_the_pool_passes_take_turns():
    turn = threads.pass_turn()
    assert turn is threads.pass_turn()
    assert isinstance(turn, type(threading.Lock()))


def test_the_served_app_runs_each_pass_on_one_thread_without_waiting():
    """As app.py does: set before TensorFlow's first operation, in a process of its own."""
    ran = subprocess.run([sys.executable, "-c", SERVED], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.strip().endswith("4096.0")
