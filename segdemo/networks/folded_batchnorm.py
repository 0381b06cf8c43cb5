"""Batch norm and the convolution before it: unfolded into a Keras ``BatchNormalization`` layer, exactly
and trainably, and folded back into the convolution for fast exact inference.

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

The other way, ``fold_into_convolutions``, is for networks that only infer and differentiate with
respect to their input (Inside the network): a BN layer in inference is a per-channel scale and
shift, which the convolution before it can apply to its kernel and bias, so the pass and its
gradient skip a whole layer per convolution.
"""
import numpy as np
import tensorflow as tf

from segdemo.networks.layer_graph import consumers, parents

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


def foldable_pairs(network):
    """{convolution name: the BN layer after it} for every BN that a linear ``Conv2D`` or
    ``DepthwiseConv2D`` feeds alone (its only consumer), normalising the channel axis."""
    taken = consumers(network.layers)
    pairs = {}
    for layer in network.layers:
        if not isinstance(layer, tf.keras.layers.BatchNormalization) or layer.axis not in ([-1], [3]):
            continue
        parent = parents(layer)[0]
        if (type(parent).__name__ in ("Conv2D", "DepthwiseConv2D") and taken[parent] == [layer]
                and parent.get_config()["activation"] == "linear"):
            pairs[parent.name] = layer
    return pairs


def _folded_weights(convolution, norm):
    """The convolution's [kernel, bias] with ``norm``'s inference scale and shift applied."""
    channels = norm.moving_mean.shape[0]
    gamma = norm.gamma.numpy() if norm.scale else np.ones(channels, np.float32)
    beta = norm.beta.numpy() if norm.center else np.zeros(channels, np.float32)
    scale = gamma / np.sqrt(norm.moving_variance.numpy() + norm.epsilon)
    weights = convolution.get_weights()
    kernel = weights[0]
    bias = weights[1] if convolution.use_bias else np.zeros(channels, kernel.dtype)
    if type(convolution).__name__ == "DepthwiseConv2D":  # kernel (h, w, in, multiplier), output channel in * multiplier + m
        kernel = kernel * scale.reshape(kernel.shape[2], kernel.shape[3])
    else:
        kernel = kernel * scale
    return [kernel.astype(weights[0].dtype), ((bias - norm.moving_mean.numpy()) * scale + beta).astype(weights[0].dtype)]


def fold_into_convolutions(network):
    """A copy of ``network`` for inference with each ``foldable_pairs`` BN merged into its convolution.

    The BN layer's place is taken by a linear ``Activation`` of the same name, so a layer named
    before (a feature map Inside shows) gives the same values, up to the order of float sums.
    """
    pairs = foldable_pairs(network)
    folded = {norm.name for norm in pairs.values()}

    def clone(layer):
        config = layer.get_config()
        if layer.name in folded:
            return tf.keras.layers.Activation("linear", name=layer.name)
        if layer.name in pairs:
            config["use_bias"] = True
        return layer.__class__.from_config(config)

    copy = tf.keras.models.clone_model(network, clone_function=clone)
    for layer in network.layers:
        if layer.name in pairs:
            copy.get_layer(layer.name).set_weights(_folded_weights(layer, pairs[layer.name]))
        elif layer.name not in folded:
            copy.get_layer(layer.name).set_weights(layer.get_weights())
    return copy
