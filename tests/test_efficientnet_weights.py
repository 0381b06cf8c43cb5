"""The EfficientNet-B0 loader: folded convolutions in, calibrated batch norms that keep the network exact."""
import shutil

import numpy as np
import pytest
import tensorflow as tf

from segdemo.networks import encoder_proofs
from segdemo.networks import pretrained_efficientnet as effnet
from segdemo.networks.models import ModelConfig, build_model, segmentation_network
from segdemo.networks.pretrained import PretrainedWeightsError, sample_photos

CONFIG = ModelConfig(arch="unet", backbone="efficientnetb0", label_set="regions", height=64, width=64)


pytestmark = pytest.mark.usefixtures("float32_policy")  # conftest: exactness is float32's


def folded_layers(network):
    """(convolution, its weights) for every layer the arrays fill: folded convs and SE convs."""
    return [(layer.name, layer.get_weights()) for layer in network.layers
            if isinstance(layer, (tf.keras.layers.Conv2D, tf.keras.layers.DepthwiseConv2D))
            and (effnet.batchnorm_of(layer.name) or "_se_" in layer.name)]


@pytest.fixture(scope="module")
def fake_folded_folder(tmp_path_factory):
    """Arrays named and shaped like the shared folder's, random values of a sane scale (activations stay O(1))."""
    folder = tmp_path_factory.mktemp("effnet")
    rng = np.random.default_rng(0)
    for name, weights in folded_layers(segmentation_network(build_model(CONFIG))):
        kernel = weights[0]
        fan_in = np.prod(kernel.shape[:2]) * (1 if "dwconv" in name else kernel.shape[2])
        np.save(folder / f"{name}_kernel.npy", rng.normal(0, 1.5 / np.sqrt(fan_in), kernel.shape).astype(np.float32))
        channels = kernel.shape[2] if "dwconv" in name else kernel.shape[3]
        np.save(folder / f"{name}_bias.npy", rng.normal(0, 0.1, channels).astype(np.float32))
    np.save(folder / "probs_kernel.npy", np.zeros((1280, 1000), np.float32))
    np.save(folder / "probs_bias.npy", np.zeros(1000, np.float32))
    return folder


def photos(count=6, size=64, seed=1):
    return np.random.default_rng(seed).uniform(0, 255, (count, size, size, 3)).astype(np.float32)


def as_plainly_folded(network):
    """Rewrite every calibrated BN as mean 0, variance 1 - eps, gamma 1, beta = folded bias:
    the folded network in its plainest form, the reference the calibration must not change."""
    encoder_norms = {effnet.batchnorm_of(name) for name, _ in folded_layers(network)} - {None}
    for layer in network.layers:
        if layer.name in encoder_norms:
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([np.ones_like(gamma), beta - mean, np.zeros_like(mean), np.full_like(mean, 1 - layer.epsilon)])


def test_kernels_land_in_their_layers_and_batch_norms_are_calibrated(fake_folded_folder):
    model = build_model(CONFIG, encoder_weights=str(fake_folded_folder), calibration_photos=photos())
    network = segmentation_network(model)
    np.testing.assert_array_equal(network.get_layer("block3a_dwconv").get_weights()[0],
                                  np.load(fake_folded_folder / "block3a_dwconv_kernel.npy"))
    np.testing.assert_array_equal(network.get_layer("block2b_se_reduce").get_weights()[1],
                                  np.load(fake_folded_folder / "block2b_se_reduce_bias.npy"))
    gamma, beta, mean, variance = network.get_layer("block4a_expand_bn").get_weights()
    np.testing.assert_allclose(gamma, np.sqrt(variance + 1e-3), rtol=1e-5)
    np.testing.assert_allclose(beta - mean, np.load(fake_folded_folder / "block4a_expand_conv_bias.npy"), atol=1e-5)
    assert variance.std() > 0 and np.abs(mean).max() > 0, "statistics were measured, not left at their defaults"


def test_calibration_keeps_the_folded_network_exact(fake_folded_folder):
    """The BN treatment's promise: inference equals the plainly folded network, whatever the statistics."""
    model = build_model(CONFIG, encoder_weights=str(fake_folded_folder), calibration_photos=photos())
    probe = photos(2, seed=7)
    calibrated = model.predict(probe, verbose=0)
    as_plainly_folded(segmentation_network(model))
    np.testing.assert_allclose(model.predict(probe, verbose=0), calibrated, atol=1e-4)


def test_training_batch_statistics_start_near_the_moving_ones(fake_folded_folder):
    """On the calibration photos themselves, batch statistics equal the moving ones, so a training
    step normalises as inference does (up to block 2a: later blocks drop paths at random in training)."""
    calibration = photos(8)
    model = build_model(CONFIG, encoder_weights=str(fake_folded_folder), calibration_photos=calibration)
    network = segmentation_network(model)
    features = tf.keras.Model(network.input, network.get_layer("block2a_project_bn").output)
    normalised = model.get_layer("normalise")(calibration)
    inference, training = features(normalised, training=False), features(normalised, training=True)
    np.testing.assert_allclose(training, inference, rtol=1e-3, atol=1e-3 * float(tf.reduce_max(tf.abs(inference))))


@pytest.mark.parametrize("arch", ["pspnet", "fpn"])
def test_other_decoders_take_the_encoder(fake_folded_folder, arch):
    size = 96 if arch == "pspnet" else 64
    config = ModelConfig(arch=arch, backbone="efficientnetb0", label_set="regions", height=size, width=size)
    model = build_model(config, encoder_weights=str(fake_folded_folder), calibration_photos=photos(4, size))
    np.testing.assert_array_equal(segmentation_network(model).get_layer("stem_conv").get_weights()[0],
                                  np.load(fake_folded_folder / "stem_conv_kernel.npy"))


def test_loader_fails_loudly(fake_folded_folder, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(fake_folded_folder, broken)
    np.save(broken / "block2a_project_conv_kernel.npy", np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(PretrainedWeightsError, match="block2a_project_conv_kernel.npy has shape"):
        build_model(CONFIG, encoder_weights=str(broken), calibration_photos=photos())
    shutil.copy(fake_folded_folder / "block2a_project_conv_kernel.npy", broken)
    np.save(broken / "block2a_mystery_gamma.npy", np.zeros(3, np.float32))
    with pytest.raises(PretrainedWeightsError, match="matched no convolution"):
        build_model(CONFIG, encoder_weights=str(broken), calibration_photos=photos())
    (broken / "block2a_mystery_gamma.npy").unlink()
    (broken / "top_conv_kernel.npy").unlink()
    (broken / "top_conv_bias.npy").unlink()
    with pytest.raises(PretrainedWeightsError, match="lacks top_conv_kernel.npy"):
        build_model(CONFIG, encoder_weights=str(broken), calibration_photos=photos())


@pytest.mark.skipif(not effnet.SHARED_WEIGHTS.is_dir(), reason=f"no shared weights at {effnet.SHARED_WEIGHTS}")
def test_shared_imagenet_weights_classify_real_photos():
    """Proof on the task the weights were trained for: ImageNet top-1 of scikit-image's photos
    (coffee -> 967 espresso, chelsea -> 285 Egyptian cat), with the calibrated batch norms."""
    classifier = encoder_proofs.imagenet_classifier(effnet.SHARED_WEIGHTS)
    probabilities = classifier(sample_photos())
    top = probabilities.argmax(-1)
    assert top[1] == 967 and top[2] == 285, top
    assert probabilities[1, 967] > 0.5 and probabilities[2, 285] > 0.5
