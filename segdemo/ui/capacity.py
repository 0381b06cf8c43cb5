"""How many photos the app segments at once, and a plain answer for those who would wait too long.

Predict and Compare share one gate.  A request waits for one of ``WORKERS`` turns; one that
has not got its turn after ``PATIENCE_S`` seconds is told, in the browser's language, that the
app is busy and to try again in a moment, instead of waiting without end.  Gradio lets up to
``WAITING_LIMIT`` such requests wait at the gate and queues up to ``QUEUE_SIZE`` more behind it
(beyond that Gradio itself answers that its queue is full).
"""
import os
import threading
from contextlib import contextmanager

import gradio as gr

from segdemo.serving.memory import give_back_freed_memory
from segdemo.ui.text import say

SEGMENTING = "segmenting"  # the concurrency id of Predict and Compare
WORKERS = int(os.environ.get("SEGDEMO_WORKERS", 2))  # 2 cores: the network uses both, drawing overlaps it
PATIENCE_S = float(os.environ.get("SEGDEMO_PATIENCE_S", 30))  # with the answer itself, well within a minute
WAITING_LIMIT = 128
QUEUE_SIZE = 256


class Capacity:
    """At most ``workers`` requests segment at once; the others wait up to ``patience_s`` for a turn."""

    def __init__(self, workers=WORKERS, patience_s=PATIENCE_S):
        self.workers, self.patience_s = workers, patience_s
        self._turns = threading.BoundedSemaphore(workers)
        self._count_lock = threading.Lock()
        self._working = 0

    @contextmanager
    def turn(self, language="en"):
        """Segment within this block once a turn is free; the last one out gives freed memory back."""
        if not self._turns.acquire(timeout=self.patience_s):
            raise gr.Error(say(language, "error.busy"), duration=10)
        with self._count_lock:
            self._working += 1
        try:
            yield
        finally:
            with self._count_lock:
                self._working -= 1
                idle = self._working == 0
            self._turns.release()
            if idle:
                give_back_freed_memory()
