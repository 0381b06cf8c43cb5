"""DeepLab's evaluation protocol (several scales, mirrored): what it averages, and its own record."""
import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from segdemo.networks.models import load_checkpoint
from segdemo.serving import evaluate
from segdemo.serving.augmented import AugmentedNetwork, scaled_size
from segdemo.serving.engine import KerasNetwork


def test_scaled_sizes_keep_the_networks_multiple():
    assert scaled_size((288, 384), 1.0, 16) == (288, 384)
    assert scaled_size((288, 384), 0.5, 16) == (144, 192)
    assert scaled_size((288, 384), 1.75, 16) == (512, 672)  # 504 is 31.5 sixteens: the nearest even, 32
    assert scaled_size((96, 96), 0.1, 32) == (32, 32)  # never below one multiple


@pytest.fixture(scope="module")
def unet(trained_checkpoints):
    return trained_checkpoints / "unet"


def photos(size, count=2):
    return np.random.default_rng(3).uniform(0, 255, (count, *size, 3)).astype(np.float32)


def test_one_scale_unmirrored_is_the_plain_network(unet):
    augmented = AugmentedNetwork(unet, (1.0,), False)
    plain = KerasNetwork(load_checkpoint(unet)[0], "float32")
    batch = photos(augmented.size)
    np.testing.assert_allclose(augmented(batch), plain(batch), atol=1e-6)


def test_mirrored_answers_are_mirrored_back_before_averaging(unet):
    augmented = AugmentedNetwork(unet, (1.0,), True)
    plain = KerasNetwork(load_checkpoint(unet)[0], "float32")
    batch = photos(augmented.size)
    expected = (plain(batch).numpy() + plain(batch[:, :, ::-1]).numpy()[:, :, ::-1]) / 2
    np.testing.assert_allclose(augmented(batch), expected, atol=1e-6)


def test_scales_are_averaged_at_the_input_size(unet):
    augmented = AugmentedNetwork(unet, (0.5, 1.0, 2.0), False)
    assert [size for _, size in augmented.passes] == [(64, 64), (96, 96), (192, 192)]  # 48 rounds up to 64
    batch = photos(augmented.size, 1)
    answer = augmented(batch).numpy()
    by_hand = []
    for network, size in augmented.passes:
        scaled = tf.image.resize(batch, size, method="area" if size[0] < 96 else "bilinear").numpy()
        by_hand.append(tf.image.resize(network(scaled), (96, 96)).numpy())
    assert answer.shape == (1, 96, 96, by_hand[0].shape[-1])
    np.testing.assert_allclose(answer.sum(-1), 1.0, atol=1e-5)  # still probabilities
    # the same averaging, up to how the photo was resized (OpenCV in the app, TensorFlow here)
    np.testing.assert_allclose(answer, np.mean(by_hand, axis=0), atol=0.02)


def test_evaluate_writes_the_protocol_to_its_own_record(unet, tiny_data, tmp_path, capsys):
    unet = shutil.copytree(unet, tmp_path / "unet")  # the session's checkpoint stays as other tests expect it
    before = {name: (unet / name).read_text() for name in ("metrics.json", "confusions.json")}
    assert evaluate.main([str(unet), "--data", str(tiny_data), "--test-time", "flip"]) == 0
    record = json.loads((unet / "metrics-flip.json").read_text())
    assert record["test_time"] == "flip" and 0 <= record["pixel_accuracy"] <= 1
    assert "metrics-flip.json" in capsys.readouterr().out
    assert {name: (unet / name).read_text() for name in before} == before  # the app's records untouched
    assert "--test-time flip" in (unet / "command.txt").read_text()
