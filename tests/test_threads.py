"""The served app gives each TensorFlow operation one thread and lets requests run side by side;
everywhere else passes keep TensorFlow's pool and take turns (segdemo.serving.threads)."""
import os
import subprocess
import sys
import threading

import pytest

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

# two requests at once, each a chain of small convolutions, as two students' gradients are: with one
# operation thread per request they should keep two cores busy, not take turns on one
SIDE_BY_SIDE = """
import threading, time
from segdemo.serving import threads
threads.one_thread_per_request()
import tensorflow as tf
kernel = tf.random.normal((3, 3, 16, 16))

@tf.function
def passes(x):
    for _ in range(8):
        x = tf.nn.relu(tf.nn.conv2d(x, kernel, 1, "SAME"))
    return tf.reduce_sum(x)

x = tf.random.normal((1, 96, 96, 16))
passes(x)
def request():
    for _ in range(40):
        passes(x).numpy()
began, cpu = time.perf_counter(), time.process_time()
two = [threading.Thread(target=request) for _ in range(2)]
[t.start() for t in two]
[t.join() for t in two]
print((time.process_time() - cpu) / (time.perf_counter() - began))
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


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to run two requests side by side")
def test_the_served_app_runs_two_requests_on_two_cores():
    """With TensorFlow's operation pool set to one thread as well, two requests used one core between them."""
    ran = subprocess.run([sys.executable, "-c", SIDE_BY_SIDE], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert float(ran.stdout.strip().splitlines()[-1]) > 1.4  # cores busy; 1.0 when they take turns
