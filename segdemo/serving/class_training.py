"""The Train tab's one run per server: started, watched, stopped and capped here.

The training itself runs in a process of its own (``python -m segdemo.networks.training_events``, which
runs ``segdemo.networks.train``): on one core, one TensorFlow thread, at low priority, so the students'
predictions keep the other core and win this one whenever they need it.  One run at a time; a
run ends by itself before its time cap (validating the epoch under way) and is killed at the cap
if it has not; Stop kills it at once (the best epoch so far is already saved).  Every viewer
reads the same ``Run``, filled from the events the process appends.

Starting, stopping and keeping a run is the teacher's (``TeacherCode``): the computer serving the
page, or whoever gives the teacher code, which the app prints in its terminal or reads from
``$SEGDEMO_TEACHER_CODE`` (a Space's secret); with that variable set, even this computer must give it.
"""
import atexit
import functools
import hmac
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from segdemo.networks.architectures import get_architecture
from segdemo.networks.checkpoint import BEFORE_FILE
from segdemo.networks.models import ARCH_TITLES, WEIGHTS_FILE, ModelConfig, required_multiple
from segdemo.networks.training_events import read_events, snapshot_file
from segdemo.serving.addresses import is_loopback

CAP_ENV = "SEGDEMO_TRAIN_CAP_S"  # seconds a run may take; 0 switches training off
DEFAULT_CAP_S = 300
RUNS_ENV = "SEGDEMO_CLASS_RUNS"  # where runs are written (default: a temporary folder of this server's)
SPACE_ENV = "SPACE_ID"  # set by Hugging Face Spaces
TEACHER_CODE_ENV = "SEGDEMO_TEACHER_CODE"  # the teacher's code; when unset, one is made and printed at start
OWN_MIX = 16  # Stanford photos mixed into a fine-tune on a class's own photos, so the model does not forget them
FINE_TUNE_LR = 2e-4  # a trained model moves less than a fresh decoder: a fifth of the usual peak rate
KEPT_LIMIT = 3  # class runs offered in Predict and Compare at once; the oldest leaves first
POLL_S = 0.25
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the worker imports this very segdemo, whatever else is installed


class TrainingRefused(RuntimeError):
    """Why a run cannot start now: ``key`` names the text the tab shows."""

    def __init__(self, key):
        super().__init__(key)
        self.key = key


def training_switch(environ=os.environ):
    """(time cap in seconds, None) when training is on, else (None, the text key of why it is off).

    Off when ``SEGDEMO_TRAIN_CAP_S`` is 0, and by default on a Hugging Face Space, where one
    visitor's run would slow every other visitor's predictions (setting the cap turns it on).
    """
    if CAP_ENV in environ:
        cap = float(environ[CAP_ENV])
        return (cap, None) if cap > 0 else (None, "train.off_env")
    return (None, "train.off_space") if environ.get(SPACE_ENV) else (DEFAULT_CAP_S, None)


@dataclass(frozen=True)
class TeacherCode:
    """Who may start, stop and keep a run: whoever gives ``code``, and, unless the code was set by
    the environment (``from_environment``), the computer serving the page without it."""

    code: str
    from_environment: bool = False

    @classmethod
    def for_server(cls, environ=os.environ):
        """``$SEGDEMO_TEACHER_CODE`` when set, else six random digits (printed by ``python app.py``)."""
        given = environ.get(TEACHER_CODE_ENV, "").strip()
        return cls(given, True) if given else cls(f"{secrets.randbelow(10 ** 6):06d}")

    def admits(self, typed, host):
        """True for the right code (compared in constant time), or for this computer when no code was set."""
        typed = (typed or "").strip()
        if typed and hmac.compare_digest(typed.encode(), self.code.encode()):
            return True
        return not self.from_environment and is_loopback(host or "")

    def notice(self):
        """What the terminal says at start: the code itself only when the app made it (a set one is a secret)."""
        if self.from_environment:
            return (f"segdemo: the Train tab's teacher code is ${TEACHER_CODE_ENV}; every device, this one "
                    "included, must give it to start, stop or keep a run")
        return (f"segdemo: teacher code for the Train tab: {self.code} (needed on other devices to start, stop or "
                f"keep a run; this computer's own browser needs none; set ${TEACHER_CODE_ENV} to choose it)")


@functools.cache
def server_teacher_code():
    """This server's one ``TeacherCode`` (made once per process)."""
    return TeacherCode.for_server()


@dataclass(frozen=True)
class RunSettings:
    """What the teacher chose: the network, its loss and start, how much to train, on what."""

    arch: str = "unet"
    loss: str = "ce+dice"
    pretrained: bool = True
    photos: int = 256
    epochs: int = 8
    size: tuple = (96, 128)
    batch: int = 8
    own_photos: str = None  # a class's own photos (data.own_photos): fine-tune ``start_from`` on them
    start_from: str = None  # the shipped checkpoint a fine-tune starts from; it keeps that checkpoint's input size

    @functools.cached_property  # a fine-tune's reads its checkpoint's config: once, not on every viewer's poll
    def network_size(self):
        """``size`` with each side rounded to what the architecture needs (PSPNet: multiples of 48, others 32);
        a fine-tune's is its checkpoint's."""
        if self.start_from:
            config = ModelConfig.load(self.start_from)
            return config.height, config.width
        multiple = required_multiple(self.arch)
        return tuple(max(multiple, round(side / multiple) * multiple) for side in self.size)

    def train_arguments(self, out, encoder_weights):
        """The ``python -m segdemo.networks.train`` arguments of this run, with its architecture's recipe
        (FPN's 128 pyramid channels, DeepLabV3+'s rate for a whole pretrained network)."""
        height, width = self.network_size
        data = (["--own", self.own_photos, "--mix-stanford", str(OWN_MIX), "--init-from", self.start_from,
                 "--lr", str(FINE_TUNE_LR), "--warmup-epochs", "0"] if self.own_photos else
                ["--limit", str(self.photos), "--encoder-weights", str(encoder_weights) if self.pretrained else "none",
                 *get_architecture(self.arch).recipe])
        return ["--arch", self.arch, "--labels", "regions", "--size", f"{height}x{width}", "--batch", str(self.batch),
                "--epochs", str(self.epochs), "--loss", self.loss, *data,
                "--out", str(out), "--resume-dir", str(Path(out).parent / "resume")]

    @property
    def title(self):
        return ARCH_TITLES[self.arch]


@dataclass
class Run:
    """One run as every viewer sees it; ``version`` grows with every change, so unchanged views are not redrawn."""

    number: int
    settings: RunSettings
    owner: str
    folder: Path
    started: float
    cap_s: float
    command: list
    process: subprocess.Popen = None
    status: str = "starting"  # then training, and one of finished, capped, stopped, failed
    info: dict = field(default_factory=dict)  # epochs, steps_per_epoch, batch, from the process
    steps: list = field(default_factory=list)
    epochs: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)  # epochs whose snapshot exists, 0 = before training
    snapshot_times: dict = field(default_factory=dict)  # epoch -> Unix time its snapshot was written
    ended: float = None
    error: str = None
    kept_as: str = None
    version: int = 0
    events_read: int = 0  # bytes of the events file taken
    stop_asked: bool = False
    reached_deadline: bool = False
    training_done: bool = False  # the process said its training has ended; only its exit is left
    measured_start_miou: float = None  # a fine-tune's before.json, once written (read until then)

    ENDED = ("finished", "capped", "stopped", "failed")

    @property
    def running(self):
        return self.status not in self.ENDED

    @property
    def out(self):
        return self.folder / "model"

    @property
    def deadline(self):
        return self.started + self.cap_s

    def elapsed(self, now=None):
        return (self.ended or now or time.time()) - self.started

    def snapshot_path(self, epoch):
        return snapshot_file(self.folder, epoch)

    def images_per_second(self):
        recent = [step["seconds"] for step in self.steps[1:][-10:]]  # the first step also builds the graph
        return self.info.get("batch", self.settings.batch) * len(recent) / sum(recent) if recent else None

    def seconds_left(self, now=None):
        """Training steps and validations still to come at the recent pace, never beyond the cap; None before a pace is known."""
        now = now or time.time()
        if not self.running:
            return 0.0
        rate = self.images_per_second()
        if rate is None or not self.info:
            return None
        total_steps = self.info["epochs"] * self.info["steps_per_epoch"]
        validation = self.epochs[-1]["validation_seconds"] if self.epochs else 0.0
        left = (total_steps - len(self.steps)) * self.info["batch"] / rate + (self.info["epochs"] - len(self.epochs)) * validation
        return max(0.0, min(left, self.deadline - now))

    @property
    def best_val_miou(self):
        return max((epoch.get("val_miou", 0.0) for epoch in self.epochs), default=None)

    @property
    def start_miou(self):
        """A fine-tune's starting model's mIoU on the held-out photos (``train --init-from``), once measured."""
        if self.measured_start_miou is None and self.settings.start_from:
            try:
                self.measured_start_miou = json.loads((self.out / BEFORE_FILE).read_text())["val_miou"]
            except (OSError, ValueError, KeyError):
                pass
        return self.measured_start_miou

    @property
    def keepable(self):
        """Ended with at least one epoch's weights saved (train keeps the best), and not yet kept."""
        return not self.running and self.kept_as is None and (self.out / "config.json").exists() and \
            any(self.out.glob(WEIGHTS_FILE + "*"))

    def take(self, event):
        if event["kind"] == "started":
            self.info, self.status = event, "training"
        elif event["kind"] == "step":
            self.steps.append(event)
        elif event["kind"] == "epoch":
            self.epochs.append(event)
        elif event["kind"] == "snapshot":
            self.snapshots.append(event["epoch"])
            self.snapshot_times[event["epoch"]] = event["time"]
        elif event["kind"] == "deadline":
            self.reached_deadline = True
        elif event["kind"] == "ended":
            self.training_done = True

    def last_log_line(self):
        lines = [line for line in (self.folder / "log.txt").read_text(errors="replace").splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error:") or "Error" in line]
        return (errors or lines or ["(no output)"])[-1][-300:]


def worker_command(settings, run_folder, photo, deadline, encoder_weights, core):
    """The process that trains: ``segdemo.networks.training_events`` around ``segdemo.networks.train``."""
    return [sys.executable, "-m", "segdemo.networks.training_events", "--folder", str(run_folder), "--photo", str(photo),
            "--deadline", f"{deadline:.3f}", *(["--core", str(core)] if core is not None else []), "--",
            *settings.train_arguments(Path(run_folder) / "model", encoder_weights)]


def worker_environment():
    path = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def training_core():
    """The core the run may use: the last this server may run on (the rest stay for predictions); None on one core."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return cores[-1] if len(cores) > 1 else None


def runs_root():
    """``$SEGDEMO_CLASS_RUNS``, else a temporary folder of this server's, removed when it exits: runs are for this server only."""
    if os.environ.get(RUNS_ENV):
        return Path(os.environ[RUNS_ENV])
    folder = Path(tempfile.mkdtemp(prefix="segdemo-class-runs-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


class ClassTrainer:
    """At most one run at a time on this server; the latest run stays readable after it ends.

    ``command(settings, run folder, photo, deadline)`` gives the process to start (tests start a
    stand-in); by default ``worker_command`` from each architecture's pretrained start (the shared
    ImageNet arrays; DeepLabV3+: the bundled ADE20K network) unless ``encoder_weights`` names one.
    """

    def __init__(self, cap_s, photo, root=None, encoder_weights=None, command=None, poll_s=POLL_S):
        self.cap_s, self.photo, self.root = cap_s, photo, Path(root) if root else runs_root()
        self.encoder_weights, self.poll_s = Path(encoder_weights) if encoder_weights else None, poll_s
        core = training_core()
        self.command = command or (lambda settings, folder, photo, deadline: worker_command(
            settings, folder, photo, deadline, self.start_weights(settings.arch), core))
        self.run = None
        self.kept = []  # runs offered in Predict and Compare, oldest first
        self._lock = threading.Lock()

    def start_weights(self, arch):
        """What a pretrained run of ``arch`` starts from: the weights given, else its architecture's own start."""
        return self.encoder_weights or get_architecture(arch).pretrained_start

    def start_available(self, arch):
        return Path(self.start_weights(arch)).is_dir()

    @property
    def encoder_available(self):
        """Whether the default network (U-Net) can start pretrained here."""
        return self.start_available("unet")

    def start(self, settings, owner):
        """Start a run for ``owner`` (who alone may stop it, with this computer); TrainingRefused says why not."""
        with self._lock:
            if self.run is not None and self.run.running:
                raise TrainingRefused("train.busy")
            if settings.pretrained and not self.start_available(settings.arch):
                raise TrainingRefused("train.no_encoder")
            number = (self.run.number + 1) if self.run else 1
            folder = self.root / f"run-{number}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            self._forget_unkept_runs(keep=folder)
            started = time.time()
            command = self.command(settings, folder, self.photo, started + self.cap_s)
            run = Run(number, settings, owner, folder, started, self.cap_s, command)
            with open(folder / "log.txt", "w") as log:
                run.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                               env=worker_environment())
            self.run = run
        threading.Thread(target=self._watch, args=(run,), daemon=True, name=f"class-run-{number}").start()
        return run

    def stop(self, run):
        """End ``run`` now (its best epoch so far stays); False if it had already ended."""
        if not run.running:
            return False
        run.stop_asked = True
        run.process.kill()
        run.process.wait()
        self._settle(run)
        return True

    def _watch(self, run):
        while run.running:
            self._absorb(run)
            if run.process.poll() is not None:
                self._settle(run)
            elif run.training_done or time.time() >= run.deadline:  # done (its exit may take a while), or out of time
                run.reached_deadline |= not run.training_done
                run.process.kill()
                run.process.wait()
                self._settle(run)
            else:
                time.sleep(self.poll_s)

    def _absorb(self, run):
        """Take the events the process appended since the last look."""
        with self._lock:
            events, run.events_read = read_events(run.folder, run.events_read)
            for event in events:
                run.take(event)
            run.version += bool(events)

    def _settle(self, run):
        """Take the last events, then say how the run ended (once)."""
        self._absorb(run)
        with self._lock:
            if not run.running:
                return
            shutil.rmtree(run.folder / "resume", ignore_errors=True)  # optimizer state: nobody resumes a class run
            code = run.process.returncode
            if run.stop_asked:
                run.status = "stopped"
            elif run.training_done:
                run.status = "capped" if run.reached_deadline else "finished"
            elif run.reached_deadline:
                run.status = "capped"
            elif code == 0:
                run.status = "finished"
            else:
                run.status, run.error = "failed", run.last_log_line()
            run.ended = time.time()
            run.version += 1

    def keep(self, run, registry, label):
        """Offer ``run``'s best weights in Predict and Compare (``registry``) under a name of its own; the name."""
        with self._lock:
            if not run.keepable:
                raise TrainingRefused("train.nothing_to_keep")
            name = f"class-run-{run.number}"
            entry = registry.add(run.out, name=name, label=label)
            if not entry.available:
                raise TrainingRefused("train.keep_failed")
            run.kept_as = name
            run.version += 1
            self.kept.append(run)
            while len(self.kept) > KEPT_LIMIT:
                registry.remove(self.kept.pop(0).kept_as)
            return name

    def _forget_unkept_runs(self, keep):
        kept = {run.folder for run in self.kept}
        for folder in self.root.glob("run-*"):
            if folder != keep and folder not in kept:
                shutil.rmtree(folder, ignore_errors=True)
