"""Knowledge distillation: a teacher's answers for the training photos (``python -m segdemo.serving.teacher``),
carried through augmentation beside the labels, and a training term that asks the network for them."""
import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_SIZE
from test_pipeline import stripes

from segdemo.data import load_dataset, load_split
from segdemo.data.labels import REGIONS
from segdemo.data.pipeline import augment, train_dataset
from segdemo.networks import train
from segdemo.networks.losses import cross_entropy, teacher_divergence, with_teacher
from segdemo.data.soft_targets import quantized, read_soft_targets, write_soft_targets
from segdemo.networks.training_metrics import ConfusionMatrixMetric
from segdemo.serving import teacher


def one_hot_soft(mask, classes=3):
    return np.eye(classes, dtype=np.float32)[mask]


def test_soft_targets_move_with_the_photo_and_are_empty_where_it_is_padded():
    image, mask = stripes()
    tf.random.set_seed(3)
    for scale in ((0.5, 0.5), (0.8, 1.4)):
        for _ in range(5):
            _, label = augment(tf.constant(image), tf.constant(mask), (48, 64), scale_range=scale,
                               soft=tf.constant(one_hot_soft(mask)))
            label = label.numpy()
            assert label.shape == (48, 64, 4)
            classes, soft = label[..., 0].astype(int), label[..., 1:]
            known = classes >= 0
            assert np.mean(soft[known].argmax(-1) == classes[known]) > 0.95, "the teacher's answer follows its pixel"
            np.testing.assert_allclose(soft[known].sum(-1), 1.0, atol=1e-5)
            if scale == (0.5, 0.5):
                assert (~known).any() and np.all(soft[~known] == 0), "padding has no teacher's answer"


def test_the_teacher_term_is_zero_when_the_network_agrees_and_counts_only_answered_pixels():
    rng = np.random.default_rng(0)
    teacher_probs = rng.dirichlet(np.ones(3), size=(2, 4, 4)).astype(np.float32)
    other = rng.dirichlet(np.ones(3), size=(2, 4, 4)).astype(np.float32)
    assert float(teacher_divergence(tf.constant(teacher_probs), tf.constant(teacher_probs))) == pytest.approx(0, abs=1e-5)
    divergence = float(teacher_divergence(tf.constant(teacher_probs), tf.constant(other)))
    expected = np.mean(np.sum(teacher_probs * (np.log(teacher_probs) - np.log(other)), -1))
    assert divergence == pytest.approx(expected, rel=1e-4) and divergence > 0

    padded_teacher = np.concatenate([teacher_probs, np.zeros_like(teacher_probs)], axis=2)
    padded_prediction = np.concatenate([other, rng.dirichlet(np.ones(3), size=(2, 4, 4)).astype(np.float32)], axis=2)
    assert float(teacher_divergence(tf.constant(padded_teacher), tf.constant(padded_prediction))) == pytest.approx(
        divergence, rel=1e-4), "pixels the teacher did not answer (padding) add nothing"

    labels = rng.integers(-1, 3, size=(2, 4, 4)).astype(np.float32)
    packed = tf.constant(np.concatenate([labels[..., None], teacher_probs], -1))
    loss = with_teacher(cross_entropy, 0.5)
    base = float(cross_entropy(tf.constant(labels), tf.constant(other)))
    assert float(loss(tf.constant(labels), tf.constant(other))) == pytest.approx(base, rel=1e-5), "validation: labels only"
    assert float(loss(packed, tf.constant(other))) == pytest.approx(base + 0.5 * divergence, rel=1e-4)


def test_the_confusion_metric_reads_the_class_of_a_packed_label():
    rng = np.random.default_rng(1)
    labels = rng.integers(-1, 3, size=(2, 5, 5))
    prediction = tf.constant(rng.dirichlet(np.ones(3), size=(2, 5, 5)).astype(np.float32))
    plain, packed = ConfusionMatrixMetric(3, "pixel_accuracy"), ConfusionMatrixMetric(3, "pixel_accuracy")
    plain.update_state(tf.constant(labels), prediction)
    soft = rng.dirichlet(np.ones(3), size=(2, 5, 5))
    packed.update_state(tf.constant(np.concatenate([labels[..., None], soft], -1), tf.float32), prediction)
    np.testing.assert_array_equal(plain.matrix(), packed.matrix())


def test_soft_targets_file_keeps_each_photos_answer_and_refuses_another_datasets(tiny_data, tmp_path):
    dataset = load_dataset(REGIONS, tiny_data)
    answers = {image_id: quantized(one_hot_soft(np.maximum(mask, 0), 8)) for image_id, mask in zip(dataset.ids, dataset.masks)}
    path = tmp_path / "soft.npz"
    with pytest.raises(ValueError, match="quantized"):
        write_soft_targets(path, {dataset.ids[0]: one_hot_soft(np.maximum(dataset.masks[0], 0), 8)}, "float32")
    write_soft_targets(path, answers, "a test teacher")
    maps, description = read_soft_targets(path, dataset, 8)
    assert description == "a test teacher" and len(maps) == len(dataset)
    assert maps[3].dtype == np.uint8 and np.array_equal(maps[3].argmax(-1), np.maximum(dataset.masks[3], 0))

    write_soft_targets(path, {i: a for i, a in list(answers.items())[1:]}, "one photo short")
    with pytest.raises(ValueError, match="no soft targets for 1 training photos"):
        read_soft_targets(path, dataset, 8)
    write_soft_targets(path, {i: a[..., :7] for i, a in answers.items()}, "seven classes")
    with pytest.raises(ValueError, match="8 classes"):
        read_soft_targets(path, dataset, 8)
    with pytest.raises(ValueError, match="augmentation"):
        train_dataset(dataset, (96, 96), 4, augmented=False, soft_targets=maps)


def test_a_network_learns_from_a_checkpoints_answers_beside_the_labels(trained_checkpoints, tiny_data, tmp_path):
    soft = tmp_path / "teacher.npz"
    assert teacher.main([str(trained_checkpoints / "unet"), "--data", str(tiny_data), "--test-time", "flip",
                         "--out", str(soft)]) == 0
    dataset = load_dataset(REGIONS, tiny_data)
    train_ids, val_ids = load_split(dataset.ids, "fixed")
    stored = np.load(soft)
    assert set(stored.files) == {*train_ids, "__teacher__"}, "the training photos only: validation stays unseen"
    assert "flip" in str(stored["__teacher__"])

    out, losses = tmp_path / "student", []
    student = ["--data", str(tiny_data), "--init-from", str(trained_checkpoints / "unet"), "--size", TINY_SIZE,
               "--epochs", "1", "--batch", "4", "--lr", "1e-3", "--out", str(out)]
    assert train.main(student + ["--teacher-weight", "2"]) == 1, "a teacher's weight without a teacher is refused"
    assert train.main(student + ["--teacher", str(soft), "--teacher-weight", "2"], callbacks=[LossName(losses)]) == 0
    assert losses == ["loss_ce_dice_and_teacher"], "the teacher's term is in the loss trained on"
    history = json.loads((out / "history.json").read_text())
    assert np.isfinite(history[0]["loss"]) and np.isfinite(history[0]["val_loss"])


class LossName(tf.keras.callbacks.Callback):
    """The name of the loss the model was compiled with, when training begins."""

    def __init__(self, names):
        super().__init__()
        self.names = names

    def on_train_begin(self, logs=None):
        self.names.append(self.model.loss.__name__)
