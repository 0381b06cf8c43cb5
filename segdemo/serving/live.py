"""Live camera segmentation: one frame in flight per viewer, the rest dropped, the rate measured.

A webcam sends frames faster than two CPU cores segment them.  Queuing them would make the
overlay trail further and further behind the camera; instead a frame that arrives while
the viewer's previous one is still being segmented is dropped, so what is shown is always
the newest frame that could be processed.
"""
import threading
import time
from collections import OrderedDict, deque

# Frames are segmented and sent back at most this big: the overlay is shown 360 px high, and a
# webcam's full 1920x1440 frame cost six times as long to resize, draw and send as to segment.
LIVE_SIDE = 640
RATE_WINDOW = 20  # frames over which the shown frame rate is measured
MAX_VIEWERS = 64  # gates kept for this many recent viewers


class FrameGate:
    """Admits one frame at a time; counts dropped frames; measures frames shown per second."""

    def __init__(self, window=RATE_WINDOW):
        self._busy = threading.Lock()
        self._shown = deque(maxlen=window)
        self.dropped = 0

    def try_enter(self):
        """True if this frame may be processed; False (and counted) if one is still in flight."""
        if self._busy.acquire(blocking=False):
            return True
        self.dropped += 1
        return False

    def leave(self, shown=True):
        """The frame is done; ``shown`` is False when it could not be segmented."""
        if shown:
            self._shown.append(time.perf_counter())
        self._busy.release()

    @property
    def frames_per_second(self):
        if len(self._shown) < 2:
            return 0.0
        return (len(self._shown) - 1) / max(self._shown[-1] - self._shown[0], 1e-9)

    @property
    def shown(self):
        return len(self._shown)


class ViewerGates:
    """One ``FrameGate`` per viewer (Gradio session), forgetting the least recent beyond a limit."""

    def __init__(self, limit=MAX_VIEWERS):
        self._gates, self._limit, self._lock = OrderedDict(), limit, threading.Lock()

    def __call__(self, viewer):
        with self._lock:
            gate = self._gates.pop(viewer, None) or FrameGate()
            self._gates[viewer] = gate
            while len(self._gates) > self._limit:
                self._gates.popitem(last=False)
            return gate
