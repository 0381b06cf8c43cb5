"""Proof that the ImageNet arrays landed in the right layers, measured on real photos.

``python -m segdemo.networks.encoder_proofs mobilenetv2 [FOLDER]``: every MobileNetV2 layer loads and
each batch norm's learnt variances match, channel by channel, what four real photos produce.
``python -m segdemo.networks.encoder_proofs efficientnetb0 [FOLDER]``: the EfficientNet-B0 arrays, with
their classifier, name the ImageNet classes of those photos (coffee cup, cat).

Kept apart from the loaders (``pretrained``, ``pretrained_efficientnet``) because a proof needs
whole networks from ``models``, which itself uses the loaders.
"""
import argparse

import numpy as np
import segmentation_models as sm
import tensorflow as tf

from segdemo.networks import pretrained, pretrained_efficientnet
from segdemo.networks.models import ModelConfig, PixelNormalisation, build_model, probe_normalisation, segmentation_network
from segdemo.networks.pretrained import PretrainedWeightsError, sample_photos

PHOTO_NAMES = ("astronaut", "coffee", "chelsea", "rocket")  # the order of sample_photos()


def batchnorm_agreement(model, images, seed=0):
    """How well the encoder's batch norms' learnt variances match what real photos produce.

    For each batch norm, the correlation (over channels) between the log variance of its
    inputs on ``images`` and its log moving variance; also the same with the channels
    shuffled, as a control.  Correctly mapped ImageNet weights give a high first mean and a
    near-zero second one: the statistics agree channel by channel.
    """
    network = segmentation_network(model)
    names = [n for n in pretrained.encoder_layer_names("mobilenetv2") if n.endswith(("_BN", "bn_Conv1", "Conv_1_bn"))]
    probe = tf.keras.Model(network.input, [network.get_layer(n).input for n in names])
    rng = np.random.default_rng(seed)
    matched, shuffled = [], []
    for name, activations in zip(names, probe(model.get_layer("normalise")(images))):
        observed = np.log(np.asarray(activations, np.float64).var(axis=(0, 1, 2)) + 1e-6)
        learnt = np.log(network.get_layer(name).moving_variance.numpy() + 1e-6)
        with np.errstate(invalid="ignore", divide="ignore"):  # constant stats (untrained): NaN
            matched.append(np.corrcoef(observed, learnt)[0, 1])
            shuffled.append(np.corrcoef(observed, rng.permutation(learnt))[0, 1])
    return float(np.mean(matched)), float(np.mean(shuffled)), len(names)


def imagenet_classifier(folder=pretrained_efficientnet.SHARED_WEIGHTS):
    """A function from RGB photos (224x224, [0, 255]) to ImageNet probabilities, built from the
    EfficientNet-B0 arrays with the classifier kept and its batch norms calibrated on
    scikit-image's photos: the loader proven on the task its weights were trained for."""
    network = sm.inject_global_submodules(sm.Backbones.get_backbone)(
        "efficientnetb0", input_shape=(224, 224, 3), weights=None, include_top=True)
    normalise = PixelNormalisation(**probe_normalisation("efficientnetb0"))
    pretrained_efficientnet.load_encoder_weights(network, folder, normalise(sample_photos()).numpy())
    return lambda photos: network.predict(normalise(np.asarray(photos, np.float32)), verbose=0)


def prove_mobilenet(folder):
    config = ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions", height=224, width=224)
    matched, shuffled, count = batchnorm_agreement(build_model(config, encoder_weights=folder), sample_photos())
    print(f"{folder}: every encoder layer loaded; over {count} batch norms, the log input variance on 4 photos "
          f"correlates {matched:.3f} with the learnt moving variance (channels shuffled: {shuffled:.3f})")


def prove_efficientnet(folder):
    for name, row in zip(PHOTO_NAMES, imagenet_classifier(folder)(sample_photos())):
        print(f"{name:10s} ImageNet top-1 class {row.argmax()} (p {row.max():.3f})")


PROOFS = {"mobilenetv2": (prove_mobilenet, pretrained.SHARED_WEIGHTS),
          "efficientnetb0": (prove_efficientnet, pretrained_efficientnet.SHARED_WEIGHTS)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m segdemo.networks.encoder_proofs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("backbone", choices=list(PROOFS))
    parser.add_argument("folder", nargs="?", help="the arrays (default: the shared folder beside the project)")
    args = parser.parse_args(argv)
    prove, default_folder = PROOFS[args.backbone]
    try:
        prove(str(args.folder or default_folder))
    except PretrainedWeightsError as error:
        print(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
