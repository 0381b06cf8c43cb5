"""One TensorFlow thread per operation: a served app's Keras passes are small, and a class sends many at once.

TensorFlow spreads each operation over every core by default, and its threads spin while they
wait for each other.  Inside the network's pixel click (three models' gradients, in-process, 2
cores) took 378 ms of CPU for 237 ms with that pool, and 268 ms of CPU for 266 ms on one thread:
the pool buys a lone student 30 ms and costs a class 40% more CPU.  So the served app runs each
operation on one thread and lets Gradio's requests run side by side on the cores, as LiteRT's
single-thread interpreters do (``segdemo.serving.engine``).

The pool that runs operations (inter-op) keeps its default, one thread per core: set to one
thread as well, it ran every request's operations one at a time, so two students' gradients
used one core between them (U-Net, one pixel: 9.6 gradients/s with two requests at once, 1.0
core busy; 17.3/s and 1.9 cores with the default pool).  Elsewhere (tools, tests, training)
TensorFlow keeps both pools, and passes take turns.
"""
import contextlib
import threading

import tensorflow as tf

_ONE_AT_A_TIME = threading.Lock()


def one_thread_per_request():
    """Before TensorFlow runs its first operation: each operation on one thread, requests side by side."""
    tf.config.threading.set_intra_op_parallelism_threads(1)


def pass_turn():
    """Hold this while a TensorFlow pass runs: with the pool, one pass at a time in the process (two at
    once only thrash); with one thread per request, no wait."""
    if tf.config.threading.get_intra_op_parallelism_threads() == 1:
        return contextlib.nullcontext()
    return _ONE_AT_A_TIME
