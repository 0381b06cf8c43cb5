"""DeepLabV3+: the network's strides, and the loader on the real ADE20K TFLite file."""
import hashlib

import numpy as np
import pytest

# segdemo before TensorFlow: it chooses the legacy tf.keras that segmentation-models needs
from segdemo.data.labels import REGIONS  # isort: skip
from segdemo.networks.models import ModelConfig, build_model, required_multiple, segmentation_network  # isort: skip
from segdemo.networks import ade20k_network, deeplab, pretrained_deeplab  # isort: skip
from segdemo.networks.pretrained import PretrainedWeightsError, sample_photos  # isort: skip
import tensorflow as tf  # noqa: E402  isort: skip

ADE20K = ade20k_network.ADE20K_CLASSES
SHARED_FILE = ade20k_network.SHARED_FOLDER / ade20k_network.DEFAULT_FILE


pytestmark = pytest.mark.usefixtures("float32_policy")  # conftest: exactness is float32's


def test_output_stride_16_with_atrous_blocks_and_a_stride_4_decoder():
    network = deeplab.DeepLabV3Plus("mobilenetv2", (96, 128, 3), 8)
    assert network.output_shape == (None, 96, 128, 8)
    assert network.get_layer("concat_projection_relu").output_shape[1:3] == (6, 8)  # 1/16
    assert network.get_layer("decoder_concat").output_shape[1:] == (24, 32, 304)  # 1/4, 256 + 48 channels
    dilations = [network.get_layer(f"expanded_conv_{i}_depthwise").dilation_rate for i in (13, 14, 15, 16)]
    assert dilations == [(1, 1), (2, 2), (2, 2), (2, 2)]
    assert required_multiple("deeplabv3plus") == deeplab.INPUT_MULTIPLE == 16


def test_every_ade20k_class_counts_as_one_regions_class():
    owners = ade20k_network.regions_of_ade20k(list(REGIONS.classes))
    assert len(owners) == 32
    named = dict(zip(ADE20K, (REGIONS.classes[i] for i in owners)))
    assert named["sky"] == "sky" and named["sea"] == "water" and named["house"] == "building"
    assert named["person"] == named["car"] == named["other"] == "foreground object"


@pytest.fixture(scope="module")
def rebuilt():
    """The file's 32-class network at 512x512, float32, batch norms set from scikit-image's photos."""
    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy("float32")
    try:
        network = deeplab.DeepLabV3Plus("mobilenetv2", (512, 512, 3), 32)
    finally:
        tf.keras.mixed_precision.set_global_policy(previous)
    photos = sample_photos(512)
    loaded = pretrained_deeplab.load_weights(network, photos / 127.5 - 1, ADE20K)
    return network, photos, loaded


def test_the_rebuilt_network_gives_the_files_labels(rebuilt):
    """Measured: 0.93-0.997 per photo (the file computes in 8 bits; differences sit where classes are close)."""
    network, photos, loaded = rebuilt
    assert loaded == len([layer for layer in network.layers
                          if isinstance(layer, (tf.keras.layers.Conv2D, tf.keras.layers.DepthwiseConv2D))]) == 60
    interpreter = ade20k_network.ADE20KInterpreter()
    agreement = [np.mean(interpreter.canvas_labels(photo) == network(photo[None] / 127.5 - 1)[0].numpy().argmax(-1)) for photo in photos]
    assert min(agreement) > 0.9 and np.mean(agreement) > 0.95, agreement


def test_unfolded_batch_norms_compute_the_folded_network_exactly(rebuilt):
    network, photos, _ = rebuilt
    batch = photos[:1] / 127.5 - 1
    calibrated = network(batch, training=False).numpy()
    saved = [layer.get_weights() for layer in network.layers]
    try:
        for layer in network.layers:
            if isinstance(layer, tf.keras.layers.BatchNormalization):
                gamma, beta, mean, variance = layer.get_weights()
                layer.set_weights([np.ones_like(gamma), beta - mean, np.zeros_like(mean), np.full_like(mean, 1 - layer.epsilon)])
        plain = network(batch, training=False).numpy()
    finally:
        for layer, weights in zip(network.layers, saved):
            layer.set_weights(weights)
    assert np.abs(calibrated - plain).max() < 1e-3 * np.abs(plain).max()


def test_regions_logits_start_from_their_ade20k_classes():
    config = ModelConfig(arch="deeplabv3plus", backbone="mobilenetv2", label_set="regions", height=64, width=64)
    model = build_model(config, encoder_weights=str(ade20k_network.BUNDLED_FOLDER))
    kernel = model.get_layer("deeplabv3plus_mobilenetv2").get_layer("logits_semantic").get_weights()[0]
    file_kernel, _ = pretrained_deeplab.read_convolutions(ade20k_network.tflite_path())["logits_semantic"]
    for region, ade in (("sky", "sky"), ("mountain", "mountain"), ("foreground object", "person")):
        np.testing.assert_allclose(kernel[..., REGIONS.classes.index(region)], file_kernel[..., ADE20K.index(ade)])


@pytest.mark.parametrize("change", ["drop", "add"])
def test_a_convolution_left_unmatched_on_either_side_fails_loudly(monkeypatch, change):
    convolutions = pretrained_deeplab.read_convolutions(ade20k_network.tflite_path())
    if change == "drop":
        convolutions.pop("aspp0")
    else:
        convolutions["aspp1"] = convolutions["aspp0"]
    monkeypatch.setattr(pretrained_deeplab, "read_convolutions", lambda path: convolutions)
    network = deeplab.DeepLabV3Plus("mobilenetv2", (64, 64, 3), 32)
    with pytest.raises(PretrainedWeightsError, match="aspp"):
        pretrained_deeplab.load_weights(network, np.zeros((1, 64, 64, 3), np.float32), ADE20K)


def test_the_bundled_file_is_the_shared_one_byte_for_byte():
    bundled = ade20k_network.tflite_path()
    listed = dict(line.split()[::-1] for line in (ade20k_network.BUNDLED_FOLDER / "SHA256SUMS").read_text().splitlines())
    assert hashlib.sha256(bundled.read_bytes()).hexdigest() == listed[bundled.name]
    if not SHARED_FILE.exists():
        pytest.skip("no ../shared/weights/deeplabv3_mnv2_ade20k32 beside the project to compare with")
    assert SHARED_FILE.read_bytes() == bundled.read_bytes()


def test_a_missing_file_is_named():
    with pytest.raises(PretrainedWeightsError, match="does not exist"):
        ade20k_network.tflite_path("/nonexistent/deeplab.tflite")


def test_the_receptive_field_walker_knows_deeplabs_resize():
    """Through a TF1 bilinear resize alone, the gradient is zero exactly outside the walked interval."""
    from segdemo.inside.receptive import receptive_field  # noqa: PLC0415 (inside imports networks, not the reverse)

    inputs = tf.keras.Input((7, 5, 1))
    network = tf.keras.Model(inputs, deeplab.BilinearResize((28, 20))(inputs))
    field = receptive_field(network)
    photo = tf.Variable(np.random.default_rng(0).normal(size=(1, 7, 5, 1)).astype(np.float32))
    for row, column in ((0, 0), (13, 9), (27, 19)):
        with tf.GradientTape() as tape:
            value = network(photo)[0, row, column, 0]
        gradient = np.abs(tape.gradient(value, photo).numpy()[0, ..., 0])
        top, left, bottom, right = field.box(row, column)
        inside = np.zeros_like(gradient, bool)
        inside[top:bottom + 1, left:right + 1] = True
        assert gradient[~inside].max(initial=0) == 0 and gradient[inside].max() > 0


def test_inside_sees_deeplabs_branches_and_its_image_pooling_reaches_everywhere():
    from segdemo.inside.probe import NetworkProbe  # noqa: PLC0415

    config = ModelConfig(arch="deeplabv3plus", backbone="mobilenetv2", label_set="regions", height=96, width=128)
    probe = NetworkProbe(build_model(config), config)
    roles = [(stage.role, stage.stride) for stage in probe.stages if stage.role != "encoder"]
    assert roles == [("pooled", 96), ("aspp", 16), ("projection", 16), ("low_level", 4), ("decoder", 4)]
    assert max(stage.stride for stage in probe.stages if stage.role == "encoder") == 16
    assert probe.field.global_pooling and probe.field.covers_everything()


def test_atrous_keeps_four_times_the_positions_for_the_same_field_and_weights():
    from segdemo.inside import atrous  # noqa: PLC0415 (inside imports networks, not the reverse)

    config = ModelConfig(arch="deeplabv3plus", backbone="mobilenetv2", label_set="regions", height=96, width=128)
    (with_atrous, decoder16), (without, decoder32) = atrous.network_at(config, 16), atrous.network_at(config, 32)
    assert with_atrous.count_params() == without.count_params()
    facts16, facts32 = atrous.encoder_facts(decoder16), atrous.encoder_facts(decoder32)
    assert facts16[:2] == (6, 8) and facts32[:2] == (3, 4)
    assert facts16[2:] == facts32[2:]  # the dilated blocks see as far as the strided ones
    finer, decoder8 = atrous.network_at(config, 8)
    facts8 = atrous.encoder_facts(decoder8)
    assert finer.count_params() == with_atrous.count_params()
    assert facts8[:2] == (12, 16) and facts8[2:] == facts16[2:], "twice the dilation, the same field, four times the positions"
    with pytest.raises(ValueError, match="8, 16 or 32"):
        deeplab.blocks(4)


def test_a_checkpoint_at_output_stride_8_is_rebuilt_at_8():
    config = ModelConfig(arch="deeplabv3plus", backbone="mobilenetv2", label_set="regions", height=96, width=128,
                         output_stride=8)
    network = segmentation_network(build_model(config))
    assert network.get_layer("concat_projection_relu").output_shape[1:3] == (12, 16)  # 1/8
    dilations = [network.get_layer(f"expanded_conv_{i}_depthwise").dilation_rate[0] for i in (6, 7, 12, 13, 14, 16)]
    assert dilations == [1, 2, 2, 2, 4, 4]
    with pytest.raises(ValueError, match="DeepLabV3\\+ only"):
        ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions", output_stride=8)


def test_a_class_run_of_deeplab_starts_from_the_bundled_ade20k_network(tmp_path):
    from segdemo.serving.class_training import ClassTrainer, RunSettings  # noqa: PLC0415 (serving above networks)

    trainer = ClassTrainer(60, photo="photo.jpg", root=tmp_path)
    assert trainer.start_weights("deeplabv3plus") == ade20k_network.BUNDLED_FOLDER and trainer.start_available("deeplabv3plus")
    settings = RunSettings(arch="deeplabv3plus", size=(100, 130))
    arguments = settings.train_arguments(tmp_path / "model", trainer.start_weights("deeplabv3plus"))
    assert settings.network_size == (96, 128)  # multiples of 16
    assert arguments[arguments.index("--encoder-weights") + 1] == str(ade20k_network.BUNDLED_FOLDER)
    assert arguments[arguments.index("--lr") + 1] == "5e-4" and "--fpn-filters" not in arguments
    assert "--freeze-encoder" in arguments  # what the shipped DeepLabV3+ was trained with


@pytest.mark.skipif(not SHARED_FILE.exists(), reason="U-Net's Conv_1 keeps the ImageNet arrays of ../shared/weights")
def test_unet_can_start_from_the_ade20k_encoder():
    config = ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions", height=64, width=64)
    model = build_model(config, encoder_weights=str(ade20k_network.BUNDLED_FOLDER))
    network = segmentation_network(model)
    file_kernel, _ = pretrained_deeplab.read_convolutions(ade20k_network.tflite_path())["expanded_conv_3_expand"]
    np.testing.assert_allclose(network.get_layer("block_3_expand").get_weights()[0], file_kernel)
    assert pretrained_deeplab.is_ade20k(ade20k_network.BUNDLED_FOLDER) and not pretrained_deeplab.is_ade20k("/tmp")


def test_a_run_keeps_its_output_stride_on_resume_and_a_soup_refuses_two_strides(tmp_path):
    import argparse  # noqa: PLC0415

    from segdemo.networks import soup, train  # noqa: PLC0415
    from segdemo.networks.models import CheckpointError  # noqa: PLC0415

    at_8 = ModelConfig(arch="deeplabv3plus", backbone="mobilenetv2", label_set="regions", output_stride=8)
    at_8.save(tmp_path)
    args = argparse.Namespace(out=tmp_path, resume=True, output_stride=None)
    assert train.with_resumed_output_stride(args).output_stride == 8
    with pytest.raises(ValueError, match="cannot resume at 16"):
        train.with_resumed_output_stride(argparse.Namespace(out=tmp_path, resume=True, output_stride=16))
    assert train.with_resumed_output_stride(argparse.Namespace(out=tmp_path, resume=False, output_stride=16)).output_stride == 16
    at_16 = ModelConfig(arch="deeplabv3plus", backbone="mobilenetv2", label_set="regions")
    with pytest.raises(CheckpointError, match="one network"):
        soup.same_network([at_8, at_16])


def test_the_atrous_table_names_each_stride_and_marks_the_shipped_one():
    from segdemo.ui.deeplab_lessons import atrous_rows  # noqa: PLC0415

    def row(stride, shipped):
        return {"output_stride": stride, "atrous": stride < 32, "shipped": shipped, "deepest_map": [288 // stride, 384 // stride],
                "centre_field": [491, 491], "parameters": 2303096, "milliseconds": 100.0, "time_ratio": 1.0}

    figures = {"rows": [row(8, False), row(16, True), row(32, False)]}
    assert [r[0] for r in atrous_rows("en", figures)] == ["1/8, atrous twice over", "1/16, atrous (as shipped)", "1/32, no atrous"]
    assert [r[0] for r in atrous_rows("ja", figures)][1] == "1/16、atrous あり(配布版)"
    figures = {"rows": [row(8, True), row(16, False)]}
    assert [r[0] for r in atrous_rows("en", figures)] == ["1/8, atrous twice over (as shipped)", "1/16, atrous"]


def test_atrous_times_are_ratios_to_the_shipped_network_whichever_row_it_is():
    import time  # noqa: PLC0415

    from segdemo.inside.atrous import timed  # noqa: PLC0415

    def taking(seconds):
        return lambda photo: time.sleep(seconds)

    milliseconds, ratios = timed([taking(0.03), taking(0.01)], None, rounds=3, reference=1)
    assert ratios[1] == 1.0 and ratios[0] > 1.5
    assert milliseconds[0] > milliseconds[1] >= 10
