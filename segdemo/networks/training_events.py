"""``python -m segdemo.networks.training_events``: ``segdemo.networks.train`` told as it happens, for the Train tab.

The app runs this in a process of its own (``segdemo.serving.class_training``)::

    python -m segdemo.networks.training_events --folder RUN --photo PHOTO --deadline UNIX_TIME [--core N] -- TRAIN-ARGS...

It confines itself to one core and one TensorFlow thread at low priority, so the app's predictions
keep the other core and win this one whenever they need it, then runs ``segdemo.networks.train`` with the
training arguments unchanged plus one callback.  That callback appends JSON lines to
``RUN/events.jsonl`` (each step's running loss, pixel accuracy and mIoU and its seconds; each
epoch's validation scores), writes the fixed validation photo's predicted labels before training
and after each epoch (``RUN/snapshot-NN.png``, grey level = class index).  It ends training before
the deadline: after an epoch when another like it would not fit, else in time to validate the epoch
under way.  It ends at once when the app that started it
has gone.
"""
import argparse
import json
import os
import sys
import threading
import time
from collections import deque
from pathlib import Path

import cv2
import numpy as np

EVENTS_FILE = "events.jsonl"
NICENESS = 10
FIRST_WRAP_UP_GUESS_S = 15.0  # time kept for ending the epoch under way (validation, saving), before one was measured
WRAP_UP_MARGIN = 1.5  # a busy core makes one epoch's end slower than the last
SCORES = ("loss", "pixel_accuracy", "miou", "val_loss", "val_pixel_accuracy", "val_miou")


def snapshot_file(folder, epoch):
    return Path(folder, f"snapshot-{epoch:02d}.png")


def read_events(folder, offset=0):
    """(events appended after byte ``offset`` of the events file, the new offset); a half-written last line waits."""
    path = Path(folder, EVENTS_FILE)
    if not path.exists():
        return [], offset
    with open(path, "rb") as stream:
        stream.seek(offset)
        text = stream.read()
    complete = text[: text.rfind(b"\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.strip()], offset + len(complete)


def confine(core):
    """One core (when given) at low priority, and one TensorFlow thread: before TensorFlow starts."""
    os.nice(NICENESS)
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def live_events_callback(folder, photo, deadline, batch):
    """The Keras callback that tells the run (see the module's docstring); built here, where TensorFlow is loaded."""
    import tensorflow as tf

    from segdemo.imaging import resize

    class LiveEvents(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.events = open(Path(folder, EVENTS_FILE), "a")
            self.step_seconds = deque(maxlen=5)
            self.validation_seconds = None
            self.wrap_up_seconds = None  # from an epoch's last step to the next epoch's start
            self.last_step_end = None
            self.epoch = 0
            self.app = os.getppid()

        def emit(self, kind, **values):
            self.events.write(json.dumps({"kind": kind, "time": round(time.time(), 3), **values}) + "\n")
            self.events.flush()

        def snapshot(self, epoch):
            height, width = self.model.input_shape[1:3]
            probabilities = self.model(resize(photo, (height, width))[None].astype(np.float32), training=False)
            cv2.imwrite(str(snapshot_file(folder, epoch)), np.argmax(probabilities[0], axis=-1).astype(np.uint8))
            self.emit("snapshot", epoch=epoch)

        def on_train_begin(self, logs=None):
            self.emit("started", epochs=self.params["epochs"], steps_per_epoch=self.params["steps"], batch=batch)
            self.snapshot(0)  # the untrained network's answer: where the class starts from

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.epoch_started = epoch, time.perf_counter()
            if self.last_step_end is not None:
                self.wrap_up_seconds = time.perf_counter() - self.last_step_end

        def on_train_batch_begin(self, step, logs=None):
            self.step_started = time.perf_counter()

        def on_train_batch_end(self, step, logs=None):
            if os.getppid() != self.app:  # the app has gone (closed, killed): nobody watches, so stop
                os._exit(3)
            seconds = time.perf_counter() - self.step_started
            if step or self.epoch:  # the run's first step also builds the graph
                self.step_seconds.append(seconds)
            self.emit("step", epoch=self.epoch + 1, step=step + 1, seconds=round(seconds, 4), **scores(logs))
            self.last_step_end = time.perf_counter()
            if time.time() + self.reserve_s() >= deadline:
                self.stop_for_deadline(step + 1)  # fit() still validates this epoch, then ends

        def reserve_s(self):
            step = np.mean(self.step_seconds) if self.step_seconds else 0.0
            return step + WRAP_UP_MARGIN * (self.wrap_up_seconds or FIRST_WRAP_UP_GUESS_S)

        def on_test_begin(self, logs=None):
            self.validation_started = time.perf_counter()

        def on_test_end(self, logs=None):
            self.validation_seconds = time.perf_counter() - self.validation_started

        def on_epoch_end(self, epoch, logs=None):
            self.snapshot(epoch + 1)
            self.emit("epoch", epoch=epoch + 1, validation_seconds=round(self.validation_seconds or 0.0, 2), **scores(logs))
            another = epoch + 1 < self.params["epochs"]
            if another and time.time() + (time.perf_counter() - self.epoch_started) >= deadline:
                self.stop_for_deadline(step=0)  # no time for another epoch like this one: end with this one

        def stop_for_deadline(self, step):
            if not self.model.stop_training:
                self.model.stop_training = True
                self.emit("deadline", epoch=self.epoch + 1, step=step)

        def on_train_end(self, logs=None):
            self.emit("ended")  # every epoch's weights are saved: the app may end this process

    return LiveEvents()


def scores(logs):
    return {key: float(logs[key]) for key in SCORES if key in (logs or {})}


def end_with_the_server(every_s=1.0):
    """Exit as soon as the app that started this run is gone (stopped with Ctrl-C, killed, crashed):
    its parent process changes. Otherwise the run would hold a core until its deadline."""
    server = os.getppid()

    def watch():
        while os.getppid() == server:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="end-with-the-server").start()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="python -m segdemo.networks.training_events", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, required=True, help="where events.jsonl and the snapshots go")
    parser.add_argument("--photo", type=Path, required=True, help="the validation photo whose labels are shown each epoch")
    parser.add_argument("--deadline", type=float, required=True, help="Unix time by which the run must have ended")
    parser.add_argument("--core", type=int, help="the one core to train on (default: any)")
    args = parser.parse_args(argv[:split])
    train_argv = argv[split + 1:]
    confine(args.core)
    end_with_the_server()
    from segdemo.imaging import load_rgb
    from segdemo.networks import train

    photo, _ = load_rgb(str(args.photo))
    batch = train.build_parser().parse_args(train_argv).batch
    return train.main(train_argv, callbacks=[live_events_callback(args.folder, photo, args.deadline, batch)])


if __name__ == "__main__":
    sys.exit(main())
