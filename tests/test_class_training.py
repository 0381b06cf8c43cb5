"""The Train tab's worker: one run per server, its progress, Stop and the time cap.

The fast tests start a stand-in process that writes the events ``segdemo.networks.training_events``
writes; the slow one trains a real small U-Net on the tiny dataset and keeps it.
"""
import sys
import time

import numpy as np
import pytest

from segdemo.serving.class_training import ClassTrainer, RunSettings, TrainingRefused, training_switch

# what segdemo.networks.training_events writes, in two epochs of two steps; "hang" then waits to be stopped,
# "linger" lingers after its training has ended
STAND_IN = """
import json, sys, time
import cv2, numpy as np
folder, mode = sys.argv[1], sys.argv[2]
def emit(kind, **values):
    with open(folder + "/events.jsonl", "a") as events:
        events.write(json.dumps({"kind": kind, "time": time.time(), **values}) + "\\n")
if mode == "fail":
    sys.exit("error: the photos are not there")
emit("started", epochs=2, steps_per_epoch=2, batch=8)
for epoch in (1, 2):
    for step in (1, 2):
        emit("step", epoch=epoch, step=step, seconds=0.5, loss=2.0 / epoch, pixel_accuracy=0.3 * epoch, miou=0.1 * epoch)
    cv2.imwrite(f"{folder}/snapshot-{epoch:02d}.png", np.full((4, 4), epoch, np.uint8))
    emit("snapshot", epoch=epoch)
    emit("epoch", epoch=epoch, validation_seconds=1.0, loss=2.0 / epoch, val_miou=0.2 * epoch)
    if mode == "hang":
        time.sleep(600)
emit("ended")
if mode == "linger":  # TensorFlow's exit can take seconds on a busy core
    time.sleep(600)
"""


def stand_in(mode):
    return lambda settings, folder, photo, deadline: [sys.executable, "-c", STAND_IN, str(folder), mode]


def wait_for(condition, timeout_s=60):
    """Wait until ``condition()`` holds (the worker polls its process a few times a second)."""
    give_up = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < give_up, "the condition never held"
        time.sleep(0.05)


@pytest.fixture
def trainer_for(tmp_path):
    trainers = []

    def make(mode, cap_s=60):
        trainer = ClassTrainer(cap_s, photo="photo.jpg", root=tmp_path / "runs", encoder_weights=tmp_path,
                               command=stand_in(mode), poll_s=0.05)
        trainers.append(trainer)
        return trainer

    yield make
    for trainer in trainers:  # no stand-in outlives its test
        if trainer.run and trainer.run.running:
            trainer.stop(trainer.run)


def test_a_run_reports_its_steps_epochs_and_snapshots(trainer_for):
    trainer = trainer_for("finish")
    run = trainer.start(RunSettings(), owner="teacher")
    wait_for(lambda: not run.running)
    assert run.status == "finished"
    assert [(s["epoch"], s["step"]) for s in run.steps] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert [e["val_miou"] for e in run.epochs] == [0.2, 0.4]
    assert run.best_val_miou == 0.4
    assert run.snapshots == [1, 2] and run.snapshot_path(2).exists()
    assert run.images_per_second() == pytest.approx(16.0)  # batch 8 in 0.5 s, the first step left out
    assert run.seconds_left() == 0.0


def test_a_run_whose_training_ended_is_finished_without_waiting_for_its_exit(trainer_for):
    trainer = trainer_for("linger")
    run = trainer.start(RunSettings(), owner="teacher")
    wait_for(lambda: not run.running)
    assert run.status == "finished" and len(run.epochs) == 2
    assert run.process.returncode == -9  # ended in its 600 s sleep, the core given back


def test_progress_is_read_while_the_run_goes_on(trainer_for):
    trainer = trainer_for("hang")
    run = trainer.start(RunSettings(), owner="teacher")
    wait_for(lambda: len(run.epochs) == 1)
    assert run.running and run.status == "training"
    assert run.info["steps_per_epoch"] == 2 and len(run.steps) == 2
    # two steps and one validation still to come at 16 photos/s, within the cap
    assert run.seconds_left() == pytest.approx(2 * 8 / 16 + 1.0)


def test_one_run_at_a_time(trainer_for):
    trainer = trainer_for("hang")
    first = trainer.start(RunSettings(), owner="teacher")
    with pytest.raises(TrainingRefused) as refused:
        trainer.start(RunSettings(arch="fpn"), owner="student")
    assert refused.value.key == "train.busy"
    assert trainer.run is first
    trainer.stop(first)
    second = trainer.start(RunSettings(), owner="student")
    assert second.number == 2 and second.running


def test_stop_ends_the_process_at_once(trainer_for):
    trainer = trainer_for("hang")
    run = trainer.start(RunSettings(), owner="teacher")
    wait_for(lambda: len(run.epochs) == 1)
    assert trainer.stop(run)
    assert run.status == "stopped" and run.process.returncode is not None
    assert len(run.epochs) == 1  # what was done stays
    assert not trainer.stop(run)  # already ended


def test_a_run_never_outlives_its_cap(trainer_for):
    trainer = trainer_for("hang", cap_s=1.5)
    run = trainer.start(RunSettings(), owner="teacher")
    wait_for(lambda: not run.running)
    assert run.status == "capped"
    assert run.process.returncode == -9  # killed at the cap, in its 600 s sleep


def test_a_failed_run_says_why(trainer_for):
    trainer = trainer_for("fail")
    run = trainer.start(RunSettings(), owner="teacher")
    wait_for(lambda: not run.running)
    assert run.status == "failed" and "the photos are not there" in run.error


def test_imagenet_start_needs_the_encoder_arrays(tmp_path):
    trainer = ClassTrainer(60, photo="photo.jpg", root=tmp_path / "runs", encoder_weights=tmp_path / "absent",
                           command=stand_in("finish"))
    with pytest.raises(TrainingRefused) as refused:
        trainer.start(RunSettings(pretrained=True), owner="teacher")
    assert refused.value.key == "train.no_encoder"


@pytest.mark.parametrize("environ, expected", [
    ({}, (300, None)),
    ({"SEGDEMO_TRAIN_CAP_S": "120"}, (120.0, None)),
    ({"SEGDEMO_TRAIN_CAP_S": "0"}, (None, "train.off_env")),
    ({"SPACE_ID": "someone/segdemo"}, (None, "train.off_space")),
    ({"SPACE_ID": "someone/segdemo", "SEGDEMO_TRAIN_CAP_S": "90"}, (90.0, None)),
])
def test_the_time_cap_and_the_off_switch(environ, expected):
    assert training_switch(environ) == expected


def test_settings_become_train_arguments(tmp_path):
    assert RunSettings(arch="pspnet", size=(96, 128)).network_size == (96, 144)  # PSPNet: multiples of 48
    assert RunSettings(arch="unet", size=(144, 192)).network_size == (128, 192)
    arguments = RunSettings(arch="fpn", loss="focal+dice", pretrained=False, photos=64, epochs=3).train_arguments(
        tmp_path / "model", tmp_path / "weights")
    text = " ".join(arguments)
    for expected in ("--arch fpn", "--loss focal+dice", "--encoder-weights none", "--limit 64", "--epochs 3",
                     "--size 96x128", "--fpn-filters 128", f"--resume-dir {tmp_path / 'resume'}"):
        assert expected in text


def test_only_who_started_a_run_or_the_serving_computer_controls_it(tmp_path):
    from types import SimpleNamespace

    from segdemo.ui.train import may_control

    run = SimpleNamespace(owner="teacher-session")

    def request(session, host):
        return SimpleNamespace(session_hash=session, client=SimpleNamespace(host=host))

    assert may_control(run, request("teacher-session", "192.168.1.20"))
    assert may_control(run, request("another-tab", "127.0.0.1"))  # the laptop that serves the page
    assert not may_control(run, request("student-session", "192.168.1.31"))
    assert not may_control(None, request("teacher-session", "127.0.0.1"))


@pytest.mark.slow
def test_a_real_run_trains_shows_its_photo_and_joins_the_lists(tiny_data, app_examples, tmp_path, monkeypatch):
    """segdemo.networks.training_events around segdemo.networks.train on the tiny dataset; the kept model segments a photo."""
    from segdemo.data.examples import list_examples
    from segdemo.serving.registry import ModelRegistry

    monkeypatch.setenv("SEGDEMO_DATA", str(tiny_data))
    monkeypatch.setenv("SEGDEMO_EXAMPLES", str(app_examples))
    photo = list_examples()[0]
    trainer = ClassTrainer(300, photo=photo, root=tmp_path / "runs")
    run = trainer.start(RunSettings(pretrained=False, photos=8, epochs=2, size=(96, 96), batch=4), owner="teacher")
    wait_for(lambda: not run.running, timeout_s=280)
    assert run.status == "finished", (run.folder / "log.txt").read_text()[-2000:]
    assert run.snapshots == [0, 1, 2] and len(run.epochs) == 2 and len(run.steps) == 4
    assert {"loss", "pixel_accuracy", "miou", "val_miou"} <= set(run.epochs[-1])
    assert not (run.folder / "resume").exists()  # the optimizer state is not kept

    registry = ModelRegistry(tmp_path / "no-checkpoints")
    name = trainer.keep(run, registry, label="class run (U-Net, 2 epochs)")
    assert registry.available("regions") == [name] and registry.get(name).label == "class run (U-Net, 2 epochs)"
    labels = registry.segment(name, photo).labels
    assert labels.shape == registry.get(name).segmenter.answer(photo).photo_size and np.all(labels >= 0)
    with pytest.raises(TrainingRefused):
        trainer.keep(run, registry, label="again")


def test_each_epochs_running_mean_is_a_line_of_its_own():
    from segdemo.ui.train import step_curve

    steps = [{"epoch": e, "step": s, "loss": 1.0 / (e + s)} for e in (1, 2) for s in (1, 2)]
    x, y = step_curve(steps, "loss", steps_per_epoch=2)
    assert x == [0.5, 1.0, None, 1.5, 2.0] and y[2] is None


@pytest.mark.parametrize("language, words", [("en", ("Done", "0.400", "2 epochs")), ("ja", ("完了", "0.400", "2 エポック"))])
def test_the_status_says_how_a_run_ended_in_the_pages_language(trainer_for, language, words):
    from segdemo.ui.train import status_markdown

    run = trainer_for("finish").start(RunSettings(), owner="teacher")
    wait_for(lambda: not run.running)
    text = status_markdown(language, run)
    assert all(word in text for word in words) and "U-Net" in text


def test_a_run_ends_when_the_server_that_started_it_is_gone(tmp_path):
    """Ctrl-C on the app must not leave its run holding a core until the deadline."""
    import os
    import signal
    import subprocess

    watching = tmp_path / "watching"
    run = ("import sys, time; from segdemo.networks.training_events import end_with_the_server; "
           "end_with_the_server(0.1); open(sys.argv[1], 'w').close(); time.sleep(60)")
    server = ("import subprocess, sys; worker = subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]]); "
              "print(worker.pid, flush=True); worker.wait()")
    app = subprocess.Popen([sys.executable, "-c", server, run, str(watching)], stdout=subprocess.PIPE, text=True)
    worker = int(app.stdout.readline())
    for _ in range(600):
        if watching.exists():
            break
        time.sleep(0.1)
    os.kill(worker, 0)  # running while the server is
    app.send_signal(signal.SIGKILL)
    app.wait()
    for _ in range(100):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    pytest.fail("the run outlived its server by 10 s")
