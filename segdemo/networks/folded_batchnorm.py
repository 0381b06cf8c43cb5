"""Put a convolution's folded batch norm back into a Keras ``BatchNormalization`` layer, exactly
and trainably.

Pretrained files that fold batch norm into their convolutions (kernel * gamma / sqrt(var + eps)
and a bias) give a kernel and a bias, while the Keras networks put a BN layer after a
convolution without bias.  The treatment chosen keeps the pretrained network exact *and*
trainable: each BN layer gets as moving mean ``m`` and variance ``v`` the statistics of its
convolution's output (without the bias) measured over real photos, ``gamma = sqrt(v + eps)``
and ``beta = bias + m``.  In inference BN then computes
``(x - m) / sqrt(v + eps) * sqrt(v + eps) + bias + m = x + bias``, the folded network exactly;
in training, batch statistics start next to the moving ones and the normalised activations
keep their pretrained scale, so fine-tuning starts where pre-training ended.  (The plain
alternative, mean 0 / variance 1 - eps / gamma 1 / beta = bias, is exact in inference too,
but the first training step would rescale every channel by its batch statistics.)
"""
import numpy as np
import tensorflow as tf

BATCHES_OF = 8


def channel_statistics(model_input, bn_layers, images):
    """Per-channel mean and variance of every BN layer's input over ``images`` (float64 sums)."""
    probe = tf.keras.Model(model_input, [layer.input for layer in bn_layers])
    totals = [np.zeros((3, layer.weights[0].shape[0])) for layer in bn_layers]
    for start in range(0, len(images), BATCHES_OF):
        outputs = probe(images[start:start + BATCHES_OF], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for total, output in zip(totals, outputs):
            values = np.asarray(tf.cast(output, tf.float32), np.float64).reshape(-1, total.shape[1])
            total += [np.full(total.shape[1], len(values)), values.sum(0), (values ** 2).sum(0)]
    statistics = []
    for count, total, squares in totals:
        mean = total / count
        statistics.append((mean, np.maximum(squares / count - mean ** 2, 0.0)))
    return statistics


def unfold(model_input, biases, images):
    """Set each BN layer in ``biases`` ({layer: folded bias}) as the module docstring says.

    ``images`` are the network's inputs at ``model_input`` (already normalised), a few real
    photos.  The kernels must already be in place.
    """
    layers = list(biases)
    for layer in layers:  # first the plain exact form, so the statistics are those of the folded network
        gamma = layer.get_weights()[0]
        layer.set_weights([np.ones_like(gamma), biases[layer], np.zeros_like(gamma), np.full_like(gamma, 1 - layer.epsilon)])
    for layer, (mean, variance) in zip(layers, channel_statistics(model_input, layers, images)):
        dtype = layer.weights[0].dtype.as_numpy_dtype
        layer.set_weights([np.sqrt(variance + layer.epsilon).astype(dtype), (biases[layer] + mean).astype(dtype),
                           mean.astype(dtype), variance.astype(dtype)])
