"""DeepLabV3+ on MobileNetV2, built layer for layer like TensorFlow DeepLab's own graph.

segmentation-models has no DeepLab, so it is built here, to match the ADE20K network in
``../shared/weights/deeplabv3_mnv2_ade20k32`` (read by ``pretrained_deeplab``) exactly:

- **Encoder**: MobileNetV2 (depth 1.0, no 1280-channel top), with **output stride 16**: where
  MobileNetV2 would halve its map a fifth time (block 13), it keeps the stride-16 map and
  the later depthwise convolutions are **atrous** (dilation 2) instead, so they see as far
  as they would have at stride 32 while the map keeps four times as many positions.
- **ASPP head**, as DeepLab builds it for MobileNetV2: an *image pooling* branch (the whole
  map averaged to one vector, a 1x1 convolution, spread back over the map) beside a 1x1
  branch, concatenated and projected to 256 channels.
- **Decoder** (the "+" of v3+): the stride-4 features (block 2's depthwise output) projected
  to 48 channels, joined with the head upsampled to stride 4, two separable 3x3 convolutions,
  then the class logits, upsampled to the photo.

Every convolution's batch norm is a separate ``BatchNormalization`` layer (the file has them
folded; see ``pretrained_deeplab`` for how they are set).  Layers are named after the file's
TF-slim scopes ("MobilenetV2/expanded_conv_3/expand" -> ``expanded_conv_3_expand``), so the
loader maps one onto the other by name.  Upsampling is TF1's bilinear resize without aligned
corners or half-pixel centres, the one the file uses.
"""
import tensorflow as tf

OUTPUT_STRIDE = 16
INPUT_MULTIPLE = 16  # the input halves four times; the stride-16 map must be whole
DECODER_STRIDE = 4
# (expansion, output channels, stride, dilation) of MobileNetV2's 17 inverted residual blocks at output stride 16
BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 1), (6, 24, 1, 1), (6, 32, 2, 1), (6, 32, 1, 1), (6, 32, 1, 1),
          (6, 64, 2, 1), (6, 64, 1, 1), (6, 64, 1, 1), (6, 64, 1, 1), (6, 96, 1, 1), (6, 96, 1, 1), (6, 96, 1, 1),
          (6, 160, 1, 1), (6, 160, 1, 2), (6, 160, 1, 2), (6, 320, 1, 2))
ATROUS_FROM = 13  # the block where plain MobileNetV2 halves its map a fifth time
FINER_FROM = 6  # the block where it halves it a fourth time (output stride 8 keeps that map)


def blocks(output_stride=OUTPUT_STRIDE):
    """BLOCKS at ``output_stride`` 8, 16 or 32: the same weights fit each (the lesson of ``inside.atrous``).

    At 32, plain MobileNetV2's: block 13 halves the map and nothing is dilated.  At 8, as DeepLab
    evaluates at its finest: block 6 keeps the stride-8 map too, and every later block looks twice as far
    as at 16 (dilation 2, then 4 from block 14), so each sees what it was trained to see, on a finer grid.
    """
    if output_stride == 16:
        return BLOCKS
    if output_stride == 32:
        return tuple((e, c, 2 if i == ATROUS_FROM else s, 1) for i, (e, c, s, _) in enumerate(BLOCKS))
    if output_stride == 8:
        return tuple((e, c, 1 if i == FINER_FROM else s, d * 2 if i > FINER_FROM else d) for i, (e, c, s, d) in enumerate(BLOCKS))
    raise ValueError(f"output stride must be 8, 16 or 32, not {output_stride}")


DECODER_BLOCK = 2  # its depthwise output (DeepLab's "layer_4/depthwise_output") feeds the decoder, at stride 4
ASPP_CHANNELS, PROJECTION_CHANNELS, DECODER_CHANNELS = 256, 48, 256
BN_EPSILON = 1e-3  # TF-slim MobileNetV2's and DeepLab's batch norm epsilon
SUPPORTED_BACKBONES = ("mobilenetv2",)


class BilinearResize(tf.keras.layers.Layer):
    """Resize bilinearly to ``size`` (height, width) the TF1 way: corners not aligned, no half-pixel
    offset (output unit u reads input units floor(u * in / out) and the next one), as the ADE20K
    file's RESIZE_BILINEAR ops do.  Sizes are static: every network here is built for one input size."""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = tuple(int(side) for side in size)

    def call(self, inputs):
        resized = tf.compat.v1.image.resize_bilinear(inputs, self.size, align_corners=False, half_pixel_centers=False)
        return tf.cast(resized, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def resize_like(x, reference, name):
    return BilinearResize(tuple(reference.shape[1:3]), name=name)(x)


def block_name(index):
    return "expanded_conv" if index == 0 else f"expanded_conv_{index}"


def conv_bn(x, filters, name, activation, kernel=1, stride=1, dilation=1, depthwise=False):
    """A convolution without bias, its batch norm and activation (ReLU6 in the encoder, ReLU in the head)."""
    if depthwise:
        x = tf.keras.layers.DepthwiseConv2D(kernel, stride, "same", dilation_rate=dilation, use_bias=False, name=name)(x)
    else:
        x = tf.keras.layers.Conv2D(filters, kernel, stride, "same", dilation_rate=dilation, use_bias=False, name=name)(x)
    x = tf.keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_BN")(x)
    if activation == "relu6":
        return tf.keras.layers.ReLU(6.0, name=f"{name}_relu")(x)
    return tf.keras.layers.ReLU(name=f"{name}_relu")(x) if activation == "relu" else x


def inverted_residual(x, index, expansion, filters, stride, dilation):
    """One MobileNetV2 block: (its output, its depthwise output, which DeepLab's decoder can take)."""
    name = block_name(index)
    inputs = x
    if expansion != 1:
        x = conv_bn(x, int(x.shape[-1]) * expansion, f"{name}_expand", "relu6")
    depthwise = conv_bn(x, None, f"{name}_depthwise", "relu6", kernel=3, stride=stride, dilation=dilation, depthwise=True)
    x = conv_bn(depthwise, filters, f"{name}_project", None)
    if stride == 1 and int(inputs.shape[-1]) == filters:
        x = tf.keras.layers.Add(name=f"{name}_add")([inputs, x])
    return x, depthwise


def is_encoder_layer(name):
    """Whether the layer called ``name`` belongs to the MobileNetV2 encoder (``Conv``, ``expanded_conv_*``)."""
    return name.startswith(("Conv", "expanded_conv"))


def encoder(inputs, output_stride=OUTPUT_STRIDE):
    """MobileNetV2 at ``output_stride``: (its deepest features, stride-4 features for the decoder)."""
    x = conv_bn(inputs, 32, "Conv", "relu6", kernel=3, stride=2)
    for index, block in enumerate(blocks(output_stride)):
        x, depthwise = inverted_residual(x, index, *block)
        if index == DECODER_BLOCK:
            low_level = depthwise
    return x, low_level


def aspp(features):
    """DeepLab's head for MobileNetV2: image pooling beside a 1x1 branch, projected to 256 channels."""
    pooled = tf.keras.layers.GlobalAveragePooling2D(keepdims=True, name="image_pooling_average")(features)
    pooled = conv_bn(pooled, ASPP_CHANNELS, "image_pooling", "relu")
    pooled = resize_like(pooled, features, "image_pooling_spread")
    branch = conv_bn(features, ASPP_CHANNELS, "aspp0", "relu")
    x = tf.keras.layers.Concatenate(name="aspp_concat")([pooled, branch])
    return conv_bn(x, ASPP_CHANNELS, "concat_projection", "relu")


def decoder(head, low_level):
    """v3+'s decoder: the head upsampled to stride 4 beside projected stride-4 features, two separable convs."""
    projected = conv_bn(low_level, PROJECTION_CHANNELS, "feature_projection0", "relu")
    x = resize_like(head, projected, "decoder_upsample")
    x = tf.keras.layers.Concatenate(name="decoder_concat")([x, projected])
    for index in range(2):
        x = conv_bn(x, None, f"decoder_conv{index}_depthwise", "relu", kernel=3, depthwise=True)
        x = conv_bn(x, DECODER_CHANNELS, f"decoder_conv{index}_pointwise", "relu")
    return x


def DeepLabV3Plus(backbone, input_shape, classes, activation="linear", encoder_weights=None, output_stride=OUTPUT_STRIDE):
    """DeepLabV3+ as segmentation-models builds its networks: normalised pixels in, logits (or
    ``activation`` of them) out at the input's size.  Pretrained weights come from ``pretrained_deeplab``;
    ``output_stride`` 32 gives the network without atrous convolution, 8 DeepLab's finest map (``blocks``)."""
    if backbone not in SUPPORTED_BACKBONES:
        raise ValueError(f"DeepLabV3+ is built on {', '.join(SUPPORTED_BACKBONES)} only, not {backbone}")
    if encoder_weights is not None:
        raise ValueError("DeepLabV3+ downloads no weights; its segmentation-pretrained start is a local file")
    inputs = tf.keras.Input(input_shape, name="normalised")
    features, low_level = encoder(inputs, output_stride)
    x = decoder(aspp(features), low_level)
    x = tf.keras.layers.Conv2D(classes, 1, name="logits_semantic")(x)
    x = resize_like(x, inputs, "logits_upsample")
    x = tf.keras.layers.Activation(activation, name="final_activation")(x)
    return tf.keras.Model(inputs, x, name="deeplabv3plus_mobilenetv2")


def decoder_stages(network):
    """What *Inside the network* shows of the head and decoder, in the order the data flows: the
    image-pooling branch (one average of the whole map: PSPNet's 1x1 grid), the 1x1 branch, their
    projection at the output stride (16 as shipped), the stride-4 features it is joined with, and the decoder's output."""
    roles = (("image_pooling_relu", "pooled", "1"), ("aspp0_relu", "aspp", ""), ("concat_projection_relu", "projection", ""),
             ("feature_projection0_relu", "low_level", ""), ("decoder_conv1_pointwise_relu", "decoder", ""))
    return [(name, role, step) for name, role, step in roles if any(layer.name == name for layer in network.layers)]
