"""The training CLI, resume, multi-replica training, evaluation and the Segmenter."""
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_SIZE
from PIL import Image

from segdemo.imaging import ImageError
from segdemo.networks import shards, train
from segdemo.networks.architectures import get_architecture
from segdemo.networks.models import segmentation_network
from segdemo.networks.checkpoint import REPORTED_METRICS, record_command
from segdemo.serving import evaluate
from segdemo.serving.inference import Segmenter


def has_weights(folder):
    """weights.npz, whole or in parts (a U-Net's float16 weights are over the 9 MB part size)."""
    return bool(shards.stored_files(Path(folder, "weights.npz")))


def test_training_writes_a_complete_checkpoint(trained_checkpoints):
    folder = trained_checkpoints / "unet"
    for name in ("config.json", "history.json", "command.txt"):
        assert (folder / name).exists(), name
    assert has_weights(folder)
    history = json.loads((folder / "history.json").read_text())
    assert [record["epoch"] for record in history] == [1, 2]
    for key in ("loss", "val_loss", "pixel_accuracy", "val_pixel_accuracy", "miou", "val_miou", "lr", "seconds"):
        assert key in history[-1]
    per_class = [v for v in history[-1]["val_iou_per_class"].values() if v is not None]
    assert np.mean(per_class) == pytest.approx(history[-1]["val_miou"], abs=1e-6), "per-class IoU is from validation"
    assert "--arch unet" in (folder / "command.txt").read_text()


def test_resume_continues_after_the_last_epoch(tiny_data, tmp_path):
    out = tmp_path / "run"
    common = ["--data", str(tiny_data), "--size", TINY_SIZE, "--batch", "8", "--out", str(out), "--limit", "8"]
    assert train.main(common + ["--epochs", "2", "--stop-after", "1"]) == 0
    assert len(json.loads((out / "history.json").read_text())) == 1
    assert train.main(common + ["--epochs", "2", "--resume"]) == 0
    history = json.loads((out / "history.json").read_text())
    assert [record["epoch"] for record in history] == [1, 2]
    assert history[1]["lr"] < history[0]["lr"], "the schedule went on where it stopped"
    assert not (out / "resume").exists() and (train.resume_dir(out) / "history.json").exists()


@pytest.mark.long  # python -m pytest -m long
def test_resume_survives_a_fresh_checkout(tiny_data, tmp_path):
    """A new session's work tree has only what was committed: the run still resumes."""
    out = tmp_path / "run"
    common = ["--data", str(tiny_data), "--size", TINY_SIZE, "--batch", "8", "--out", str(out), "--limit", "8"]
    assert train.main(common + ["--epochs", "3", "--stop-after", "2"]) == 0
    shutil.rmtree(out)  # nothing of the first session's output was committed
    assert train.main(common + ["--epochs", "3", "--resume"]) == 0
    history = json.loads((out / "history.json").read_text())
    assert [record["epoch"] for record in history] == [1, 2, 3]
    assert has_weights(out) and (out / "config.json").exists()


def test_resume_on_a_fresh_machine_continues_from_the_committed_checkpoint(tiny_data, tmp_path, capsys):
    """No resume state anywhere (a new machine): the committed weights and history carry on."""
    out = tmp_path / "run"
    common = ["--data", str(tiny_data), "--size", TINY_SIZE, "--batch", "8", "--out", str(out), "--limit", "8"]
    assert train.main(common + ["--epochs", "2", "--resume-dir", str(tmp_path / "first-machine")]) == 0
    committed = json.loads((out / "history.json").read_text())
    assert train.main(common + ["--epochs", "3", "--resume", "--resume-dir", str(tmp_path / "second-machine")]) == 0
    assert "continuing after epoch 2 from the best weights" in capsys.readouterr().out
    history = json.loads((out / "history.json").read_text())
    assert history[:2] == committed and [record["epoch"] for record in history] == [1, 2, 3]
    # the schedule went on from the committed step to its end, not from a new warm-up (1e-3 after one epoch)
    assert history[2]["lr"] == pytest.approx(committed[1]["lr"])


@pytest.mark.long  # python -m pytest -m long
def test_mirrored_strategy_over_two_cpu_devices_trains(tiny_data, tmp_path):
    script = textwrap.dedent(f"""
        import sys
        from segdemo.networks import train
        sys.exit(train.main(["--data", {str(tiny_data)!r}, "--size", "{TINY_SIZE}", "--epochs", "1", "--batch", "2",
                             "--limit", "4", "--cpu-replicas", "2", "--out", {str(tmp_path / 'mirrored')!r}]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 replica(s)" in done.stdout
    assert has_weights(tmp_path / "mirrored")


def test_evaluate_cli_writes_metrics(trained_checkpoints, tiny_data, capsys):
    folder = trained_checkpoints / "fpn"
    assert evaluate.main([str(folder), "--data", str(tiny_data)]) == 0
    summary = json.loads((folder / "metrics.json").read_text())
    assert summary["images"] == 3
    assert 0.0 <= summary["miou"] <= summary["mean_f1"] <= 1.0
    assert len(summary["confusion_matrix"]) == 8
    assert summary["precision"] == "float32" and summary["split"] == "fixed"
    report = capsys.readouterr().out
    assert all(f"{metric.title} {metric.formatted(summary)}" in report for metric in REPORTED_METRICS)


def test_evaluate_reports_a_missing_checkpoint(tmp_path, capsys):
    assert evaluate.main([str(tmp_path)]) == 1
    assert "config.json is missing" in capsys.readouterr().err


@pytest.fixture(scope="module")
def segmenter(trained_checkpoints):
    return Segmenter(trained_checkpoints / "unet")


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "CMYK", "P", "I;16"])
def test_any_image_mode_gives_labels_at_its_own_size(segmenter, tmp_path, mode):
    array = np.random.default_rng(0).integers(0, 255, (70, 130, 3), dtype=np.uint8)
    picture = Image.fromarray(array)
    picture = picture.convert("I;16") if mode == "I;16" else picture.convert(mode)
    path = tmp_path / f"photo.{'jpg' if mode in ('RGB', 'L', 'CMYK') else 'png'}"
    picture.save(path)
    result = segmenter.segment(str(path))
    assert result.labels.shape == (70, 130) and result.confidence.shape == (70, 130)
    assert result.labels.min() >= 0 and result.labels.max() < 8
    assert np.all((result.confidence > 0) & (result.confidence <= 1.0001))


def test_labels_drawn_from_probabilities_match_tensorflows_resize_and_argmax():
    """The OpenCV arg-max a photo's labels come from (one plane at a time) gives the labels and confidence
    of the batch path (``labels_at``: TensorFlow's bilinear resize, then arg-max), enlarged or shrunk (a
    dataset photo is smaller than the network's input): the evaluation's figures are the app's labels."""
    from segdemo.serving.inference import labels_and_confidence, labels_at

    rows, columns = np.mgrid[0:36, 0:48]
    logits = np.stack([np.sin(rows / (3 + k)) + np.cos(columns / (4 + k)) + 0.1 * k for k in range(8)], -1)
    probabilities = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(np.float32)
    for size in ((36, 48), (75, 100), (300, 400), (30, 40), (20, 27)):
        labels, confidence = labels_and_confidence(probabilities, *size)
        expected, expected_confidence, _ = labels_at(probabilities[None], tf.constant(size, tf.int32))
        assert labels.dtype == np.int32 and labels.shape == size
        assert np.mean(labels == expected.numpy()[0]) > 0.999
        np.testing.assert_allclose(confidence, expected_confidence.numpy()[0], atol=1e-4)
    tied = np.full((2, 2, 3), 1 / 3, np.float32)
    assert not labels_and_confidence(tied, 4, 4)[0].any()  # a tie goes to the first class, as with arg-max


def test_exif_rotation_is_applied(segmenter, tmp_path):
    picture = Image.fromarray(np.zeros((40, 100, 3), np.uint8))
    exif = picture.getexif()
    exif[0x0112] = 6  # rotate 90 degrees when shown
    path = tmp_path / "rotated.jpg"
    picture.save(path, exif=exif)
    result = segmenter.segment(str(path))
    assert result.labels.shape == (100, 40)
    assert any("EXIF" in note for note in result.notes)


def test_bad_inputs_raise_clear_errors(segmenter, tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    with pytest.raises(ImageError, match="not an image"):
        segmenter.segment(str(text))
    with pytest.raises(ImageError, match="at least 8"):
        segmenter.segment(np.zeros((1, 1, 3), np.uint8))
    whole = tmp_path / "whole.jpg"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(whole)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(whole.read_bytes()[:300])
    with pytest.raises(ImageError, match="damaged or truncated"):
        segmenter.segment(str(truncated))
    with pytest.raises(ImageError, match="empty"):
        segmenter.segment(b"")


def test_seed_recipe_flags(tiny_data, tmp_path):
    out = tmp_path / "seed"
    assert train.main(["--data", str(tiny_data), "--arch", "unet", "--backbone", "mobilenetv2", "--labels", "surfaces",
                       "--size", "64x64", "--epochs", "1", "--batch", "4", "--loss", "ce", "--schedule", "constant",
                       "--weight-decay", "0", "--split", "sorted80", "--no-augment", "--out", str(out)]) == 0
    record = json.loads((out / "history.json").read_text())[0]
    assert record["lr"] == pytest.approx(1e-3)
    assert len(record["val_iou_per_class"]) == 3
    config = json.loads((out / "config.json").read_text())
    assert config["label_set"] == "surfaces" and config["classes"] == ["sky", "horizontal", "vertical"]


def test_unusable_encoder_weights_are_reported(tiny_data, tmp_path, capsys):
    empty = tmp_path / "no-arrays"
    empty.mkdir()
    assert train.main(["--data", str(tiny_data), "--size", "64x64", "--epochs", "1", "--encoder-weights", str(empty),
                       "--out", str(tmp_path / "x")]) == 1
    assert "holds no .npy arrays" in capsys.readouterr().err


def test_a_start_or_a_run_without_a_valid_config_is_reported(tiny_data, tmp_path, capsys):
    """``--init-from`` a folder with no config, or ``--resume`` of a run whose config is broken: a message, not a traceback."""
    assert train.main(["--data", str(tiny_data), "--size", "64x64", "--epochs", "1", "--init-from", str(tmp_path / "nothing"),
                       "--out", str(tmp_path / "x")]) == 1
    assert "nothing/config.json is missing" in capsys.readouterr().err
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{not json")
    assert train.main(["--data", str(tiny_data), "--size", "64x64", "--epochs", "1", "--resume", "--out", str(tmp_path / "run")]) == 1
    assert "run/config.json is not a valid model config" in capsys.readouterr().err


def test_command_list_keeps_the_order_the_checkpoint_was_made_in(tmp_path):
    train_line, evaluate_line = "python -m segdemo.networks.train --epochs 2 --out x", "python -m segdemo.serving.evaluate x"
    (tmp_path / "command.txt").write_text(f"{train_line}\n")
    record_command(tmp_path, evaluate_line)
    record_command(tmp_path, evaluate_line)  # evaluated twice: listed once
    with (tmp_path / "command.txt").open("a") as commands:
        commands.write("python -m segdemo.networks.train --epochs 3 --resume --out x\n")
    record_command(tmp_path, evaluate_line)  # after more training: listed again, last
    assert (tmp_path / "command.txt").read_text().splitlines() == [
        train_line, evaluate_line, "python -m segdemo.networks.train --epochs 3 --resume --out x", evaluate_line]


class WeightWatch(tf.keras.callbacks.Callback):
    """The inner network's weights, by layer name, when training begins and ends."""

    def on_train_begin(self, logs=None):
        self.before = self.snapshot()

    def on_train_end(self, logs=None):
        self.after = self.snapshot()

    def snapshot(self):
        network = segmentation_network(self.model)
        return {layer.name: [w.numpy().copy() for w in layer.weights] for layer in network.layers if layer.weights}


@pytest.mark.parametrize("arch", ["unet", "deeplabv3plus"])
def test_a_frozen_encoder_keeps_its_weights_and_statistics_while_the_decoder_learns(tiny_data, tmp_path, arch, capsys):
    watch = WeightWatch()
    assert train.main(["--data", str(tiny_data), "--arch", arch, "--size", "64x64", "--epochs", "1", "--batch", "4",
                       "--freeze-encoder", "--out", str(tmp_path / arch)], callbacks=[watch]) == 0
    assert "encoder frozen" in capsys.readouterr().out
    is_encoder = get_architecture(arch).is_encoder_layer
    moved = {name: any(not np.array_equal(a, b) for a, b in zip(watch.before[name], watch.after[name]))
             for name in watch.before}
    encoder = [name for name in moved if is_encoder(name)]
    decoder = [name for name in moved if not is_encoder(name)]
    assert encoder and decoder
    assert not any(moved[name] for name in encoder)  # kernels and batch-norm moving statistics alike
    assert all(moved[name] for name in decoder)
