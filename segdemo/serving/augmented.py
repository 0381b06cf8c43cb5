"""Test-time augmentation: DeepLab's evaluation protocol, the photo at several scales and mirrored.

Chen et al. report DeepLabV3+'s best figures "with multi-scale inputs and left-right flipped
inputs" (scales 0.5 to 1.75): the network sees the photo at each scale and its mirror image, and
the class probabilities, brought back to one size, are averaged.  A large scale shows the network
small things bigger, a small one gives it more of the photo per unit of its field.  It costs one
pass per scale and mirror, about eleven times one pass over the six scales, so the app answers
with one pass and ``python -m segdemo.serving.evaluate --test-time scales-and-flip`` measures what
the protocol adds.
"""
import numpy as np
import tensorflow as tf

from segdemo.imaging import resize
from segdemo.networks.models import ModelConfig, load_checkpoint, required_multiple
from segdemo.serving.engine import KerasNetwork

DEEPLAB_SCALES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)  # the paper's, not chosen on our validation photos
PROTOCOLS = {  # name -> (scales, mirrored too)
    "one-pass": ((1.0,), False),
    "flip": ((1.0,), True),
    "scales-and-flip": (DEEPLAB_SCALES, True),
}


def scaled_size(size, scale, multiple):
    """(height, width) ``scale`` times ``size``, each side rounded to the nearest ``multiple`` the network needs."""
    return tuple(max(multiple, int(round(side * scale / multiple)) * multiple) for side in size)


class AugmentedNetwork:
    """A checkpoint's float32 (or ``precision``) Keras network at each of ``scales``, ``flip`` adding mirror images.

    Called like the app's networks, with images at the checkpoint's input size; it answers the
    average of every pass's probabilities at that size.
    """

    def __init__(self, folder, scales, flip, precision="float32"):
        config = ModelConfig.load(folder)
        self.size = (config.height, config.width)
        multiple = required_multiple(config.arch, config.psp_downsample)
        sizes = dict.fromkeys(scaled_size(self.size, scale, multiple) for scale in scales)
        self.passes = [(KerasNetwork(load_checkpoint(folder, precision, size)[0], precision), size) for size in sizes]
        self.flip = flip
        self.name = f"Keras {precision}, {len(self.passes)} scales" + (" and mirrored" if flip else "")

    def __call__(self, batch):
        batch = np.asarray(batch, np.float32)
        total = 0.0
        for network, size in self.passes:
            scaled = batch if size == self.size else np.stack([resize(image, size) for image in batch])
            if self.flip:  # mirrored answers mirrored back, so each pixel's answers are about the same place
                both = network(np.concatenate([scaled, scaled[:, :, ::-1]]))
                probabilities = both[:len(batch)] + both[len(batch):, :, ::-1]
            else:
                probabilities = network(scaled)
            total += tf.image.resize(probabilities, self.size, method="bilinear")
        return total / (len(self.passes) * (2 if self.flip else 1))
