"""How many photos the app segments at once, and a plain answer for those who would wait too long.

Predict and Compare share one gate.  A request waits for one of ``WORKERS`` turns, given in
the order the requests arrived (``FairTurns``); one that
has not got its turn after ``PATIENCE_S`` seconds is told, in the browser's language, that the
app is busy and to try again in a moment, instead of waiting without end.  Gradio lets up to
``WAITING_LIMIT`` such requests wait at the gate and queues up to ``QUEUE_SIZE`` more behind it
(beyond that Gradio itself answers that its queue is full).
"""
import os
import threading
from collections import deque
from contextlib import contextmanager

import gradio as gr

from segdemo.serving.memory import give_back_freed_memory
from segdemo.ui.text import say

SEGMENTING = "segmenting"  # the concurrency id of Predict and Compare
WORKERS = int(os.environ.get("SEGDEMO_WORKERS", 2))  # 2 cores: the network uses both, drawing overlaps it
PATIENCE_S = float(os.environ.get("SEGDEMO_PATIENCE_S", 30))  # with the answer itself, well within a minute
WAITING_LIMIT = 128
QUEUE_SIZE = 256
QUEUE_POLL_S = 0.01  # Gradio's queue looks for work every millisecond: about a twentieth of a core, idle
ANALYTICS_EVERY = 50  # events between Gradio's monitoring summaries (by default after every event)
ANALYTICS_KEPT = 1000  # events whose timings that summary keeps (by default 10,000)


def start_queue(demo):
    """Gradio's queue, without the work it does by default that a class pays for on every answer.

    After each event Gradio rebuilds a pandas table of every event it has kept (up to 10,000)
    for its monitoring summary: a cost per answer that grows with the answers already given.
    Here the summary is rebuilt every ``ANALYTICS_EVERY`` events over the last
    ``ANALYTICS_KEPT``, and the queue polls every ``QUEUE_POLL_S`` instead of every millisecond.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(ANALYTICS_EVERY))  # read when the queue is made
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", str(ANALYTICS_KEPT))
    demo.queue(default_concurrency_limit=2, max_size=QUEUE_SIZE)
    queue = demo._queue
    if not hasattr(queue, "sleep_when_free"):
        raise RuntimeError("gradio.queueing.Queue has no sleep_when_free any more: see segdemo.ui.capacity")
    queue.sleep_when_free = QUEUE_POLL_S


class FairTurns:
    """``workers`` turns, handed to waiting requests in the order they arrived.

    A semaphore lets a request that arrives just as a turn is freed take it ahead of those already
    waiting: a student who sends the next photo at once jumps the queue while another waits twice
    as long, and the slowest answers of a burst are what a class remembers.
    """

    def __init__(self, workers):
        self.workers = workers
        self._lock = threading.Lock()
        self._free = workers
        self._waiting = deque()  # one Event per waiting request, oldest first

    def acquire(self, timeout):
        """True once this request has a turn; False if none came within ``timeout`` seconds."""
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            ticket = threading.Event()
            self._waiting.append(ticket)
        if ticket.wait(timeout):
            return True
        with self._lock:
            if ticket.is_set():  # handed over just as the wait ended
                return True
            self._waiting.remove(ticket)
            return False

    def release(self):
        """Hand the turn to the oldest waiting request; True if nobody has one any more."""
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
                return False
            self._free += 1
            return self._free == self.workers


class Capacity:
    """At most ``workers`` requests segment at once; the others wait up to ``patience_s`` for a turn."""

    def __init__(self, workers=WORKERS, patience_s=PATIENCE_S):
        self.workers, self.patience_s = workers, patience_s
        self._turns = FairTurns(workers)

    @contextmanager
    def turn(self, language="en"):
        """Segment within this block once a turn is free; the last one out gives freed memory back."""
        if not self._turns.acquire(timeout=self.patience_s):
            raise gr.Error(say(language, "error.busy"), duration=10)
        try:
            yield
        finally:
            if self._turns.release():
                give_back_freed_memory()
