"""Model building, checkpoint round trips and the MobileNetV2 TF-slim weight loader."""
import json

import numpy as np
import pytest

from segdemo.networks import encoder_proofs, pretrained
from segdemo.networks.models import CheckpointError, ModelConfig, build_model, load_checkpoint, save_weights, segmentation_network


def test_input_size_rules():
    with pytest.raises(ValueError, match="divisible by 48"):
        ModelConfig(arch="pspnet", backbone="mobilenetv2", label_set="regions", height=320, width=320)
    with pytest.raises(ValueError, match="divisible by 32"):
        ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions", height=300, width=384)
    ModelConfig(arch="pspnet", backbone="mobilenetv2", label_set="regions", height=288, width=384)


def test_normalisation_matches_segmentation_models_preprocessing():
    import segmentation_models as sm

    pixels = np.random.default_rng(0).uniform(0, 255, (1, 4, 4, 3))
    for backbone in ("mobilenetv2", "resnet34", "vgg16", "resnet50"):
        config = ModelConfig(arch="unet", backbone=backbone, label_set="regions", height=64, width=64)
        norm = config.normalisation
        ours = (pixels[..., norm["channel_order"]] - norm["mean"]) / norm["std"]
        np.testing.assert_allclose(ours, sm.get_preprocessing(backbone)(pixels.copy()), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("arch", ["unet", "pspnet", "fpn", "linknet"])
def test_checkpoint_round_trip_predicts_the_same(tmp_path, arch):
    config = ModelConfig(arch=arch, backbone="mobilenetv2", label_set="surfaces", height=96, width=96)
    model = build_model(config)
    save_weights(model, tmp_path)
    config.save(tmp_path)
    rebuilt, loaded_config = load_checkpoint(tmp_path)
    assert loaded_config == config
    batch = np.random.default_rng(1).uniform(0, 255, (2, 96, 96, 3)).astype(np.float32)
    original, restored = model.predict(batch, verbose=0), rebuilt.predict(batch, verbose=0)
    assert original.shape == (2, 96, 96, 3) and original.dtype == np.float32
    np.testing.assert_allclose(restored, original, atol=2e-2)  # weights are stored as float16
    assert np.mean(restored.argmax(-1) == original.argmax(-1)) > 0.99


def test_broken_checkpoints_say_what_is_wrong(tmp_path):
    config = ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions", height=64, width=64)
    config.save(tmp_path)
    with pytest.raises(CheckpointError, match="weights.npz is missing"):
        load_checkpoint(tmp_path)
    (tmp_path / "weights.npz").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(tmp_path)
    other = ModelConfig(arch="fpn", backbone="mobilenetv2", label_set="regions", height=64, width=64)
    save_weights(build_model(other), tmp_path)
    with pytest.raises(CheckpointError, match="does not match"):
        load_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"arch": "nope"}))
    with pytest.raises(CheckpointError, match="not a valid model config"):
        load_checkpoint(tmp_path)


def test_slim_names_map_onto_keras_layers():
    assert pretrained.slim_names("Conv1") == ["Conv_weights"]
    assert pretrained.slim_names("block_3_depthwise") == ["expanded_conv_3_depthwise_depthwise_weights"]
    assert pretrained.slim_names("expanded_conv_project_BN")[0] == "expanded_conv_project_BatchNorm_gamma"
    assert pretrained.slim_names("Conv_1_bn")[3] == "Conv_1_BatchNorm_moving_variance"
    assert pretrained.slim_prefix("decoder_stage0a_conv") is None


@pytest.fixture(scope="module")
def fake_slim_folder(tmp_path_factory):
    """Arrays named and shaped like the slim checkpoint, filled with distinct random values."""
    folder = tmp_path_factory.mktemp("slim")
    config = ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions", height=64, width=64)
    model = segmentation_network(build_model(config))
    rng = np.random.default_rng(0)
    for name in pretrained.encoder_layer_names("mobilenetv2"):
        for tensor, weight in zip(pretrained.slim_names(name), model.get_layer(name).get_weights()):
            np.save(folder / f"{tensor}.npy", rng.normal(size=weight.shape).astype(np.float32))
    np.save(folder / "Logits_Conv2d_1c_1x1_biases.npy", np.zeros(1001, np.float32))
    return folder


@pytest.mark.parametrize("arch", ["fpn", "pspnet"])
def test_loader_fills_every_encoder_layer(fake_slim_folder, arch):
    size = 96 if arch == "pspnet" else 64
    config = ModelConfig(arch=arch, backbone="mobilenetv2", label_set="regions", height=size, width=size)
    model = build_model(config, encoder_weights=str(fake_slim_folder))
    decoder = segmentation_network(model)
    np.testing.assert_array_equal(decoder.get_layer("block_5_expand").get_weights()[0],
                                  np.load(fake_slim_folder / "expanded_conv_5_expand_weights.npy"))
    np.testing.assert_array_equal(decoder.get_layer("bn_Conv1").get_weights()[2],
                                  np.load(fake_slim_folder / "Conv_BatchNorm_moving_mean.npy"))


def test_loader_fails_loudly(fake_slim_folder, tmp_path):
    import shutil

    config = ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions", height=64, width=64)
    broken = tmp_path / "broken"
    shutil.copytree(fake_slim_folder, broken)
    np.save(broken / "expanded_conv_2_project_weights.npy", np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(pretrained.PretrainedWeightsError, match="expanded_conv_2_project_weights.npy has shape"):
        build_model(config, encoder_weights=str(broken))
    np.save(broken / "expanded_conv_2_project_weights.npy", np.load(fake_slim_folder / "expanded_conv_2_project_weights.npy"))
    np.save(broken / "expanded_conv_99_project_weights.npy", np.zeros(3, np.float32))
    with pytest.raises(pretrained.PretrainedWeightsError, match="matched no encoder layer"):
        build_model(config, encoder_weights=str(broken))
    (broken / "expanded_conv_99_project_weights.npy").unlink()
    (broken / "Conv_1_weights.npy").unlink()
    with pytest.raises(pretrained.PretrainedWeightsError, match="lacks Conv_1_weights.npy"):
        build_model(config, encoder_weights=str(broken))


@pytest.mark.skipif(not pretrained.SHARED_WEIGHTS.is_dir(), reason=f"no shared weights at {pretrained.SHARED_WEIGHTS}")
def test_shared_imagenet_weights_match_the_encoder_statistics():
    """Measured proof of the mapping (``python -m segdemo.networks.encoder_proofs mobilenetv2`` prints it): on real photos,
    the variance reaching each batch norm tracks the variance it learnt on ImageNet, channel by
    channel; shuffling the channels destroys the agreement."""
    config = ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions", height=224, width=224)
    model = build_model(config, encoder_weights=str(pretrained.SHARED_WEIGHTS))
    matched, shuffled, count = encoder_proofs.batchnorm_agreement(model, pretrained.sample_photos())
    assert count == 52
    assert matched > 0.75, matched
    assert abs(shuffled) < 0.2, shuffled
    scratch = build_model(config)
    scratch_matched, _, _ = encoder_proofs.batchnorm_agreement(scratch, pretrained.sample_photos())
    assert not scratch_matched > 0.5, "random weights must not pass the check"
