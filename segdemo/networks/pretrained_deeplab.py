"""Load the ADE20K DeepLabV3+ (MobileNetV2) weights from its TFLite file into ``deeplab``'s Keras network.

``../shared/weights/deeplabv3_mnv2_ade20k32`` holds the MLPerf Mobile network (see its
``PROVENANCE.md``): int8 or uint8 weights with their scales, batch norm folded into every
convolution.  The LiteRT interpreter (the one the app already runs exported networks with)
reads every convolution of the graph: its weights tensor names the layer (a TF-slim scope such
as ``MobilenetV2/expanded_conv_3/expand``, mapped to ``expanded_conv_3_expand``), its bias is
the convolution's third input.  Each is dequantized ((q - zero point) * scale, per output
channel), laid out as Keras wants it (O-H-W-I -> H-W-I-O, 1-H-W-C -> H-W-C-1), checked against
the layer's shape, and the folded biases go into the batch norms after each convolution as
``folded_batchnorm`` explains.  Anything left over on either side fails loudly: a convolution
of the file with no Keras layer, or a Keras convolution the file does not fill.  The class
logits (32 ADE20K classes) are loaded as they are when the network has 32 classes.  A network
for Stanford Background's regions starts each class's logit from the ADE20K class it mostly is
(sky from sky, building from building, foreground object from person, ...): fine-tuning then
starts from what the network already knew instead of from random logits over features far
larger than a fresh layer expects (a random start measured a first loss of 10).  Other label
sets start their logits afresh.

``load_encoder`` gives segmentation-models' decoders the same start: the file's MobileNetV2
encoder, segmentation-pretrained, in place of ImageNet's classification-pretrained one.
"""
from pathlib import Path

import numpy as np
import tensorflow as tf

from segdemo.networks import folded_batchnorm, pretrained
from segdemo.networks.ade20k_network import ADE20K_CLASSES, DEFAULT_FILE, FOREGROUND, REGIONS_FROM_ADE20K, tflite_path
from segdemo.networks.pretrained import PretrainedWeightsError

LOGITS = "logits_semantic"
CONVOLUTIONS = {"CONV_2D": (1, 2, 3, 0), "DEPTHWISE_CONV_2D": (1, 2, 3, 0)}  # TFLite layout -> Keras layout
SCOPES = ("MobilenetV2/", "decoder/")  # TF-slim scopes that Keras layer names leave out
FOLDED_SUFFIXES = ("/BatchNorm/FusedBatchNormV3", "/Conv2D", "/weights_quant/FakeQuantWithMinMaxVars")  # int8, uint8 files
FOREGROUND_START = "person"  # where the foreground object's logit starts


def starting_classes(class_names):
    """For each class of the network, the ADE20K class its logit starts from, or None for all
    (a label set without a mapping: its logits start afresh)."""
    if tuple(class_names) == ADE20K_CLASSES:
        return list(range(len(ADE20K_CLASSES)))
    firsts = {**{region: parts[0] for region, parts in REGIONS_FROM_ADE20K.items()}, FOREGROUND: FOREGROUND_START}
    if set(class_names) != set(firsts):
        return None
    return [ADE20K_CLASSES.index(firsts[name]) for name in class_names]


def keras_name(tensor_name):
    """``MobilenetV2/expanded_conv_3/expand/BatchNorm/FusedBatchNormV3;...`` (int8 file) or
    ``MobilenetV2/expanded_conv_3/expand/weights_quant/FakeQuantWithMinMaxVars`` (uint8 file) -> ``expanded_conv_3_expand``."""
    scope = tensor_name.split(";")[0]
    for suffix in FOLDED_SUFFIXES:
        scope = scope.removesuffix(suffix)
    for prefix in SCOPES:
        scope = scope.removeprefix(prefix)
    return scope.replace("/", "_")


def dequantize(interpreter, detail):
    """A weight or bias tensor as float32: (q - zero point) * scale, per channel where it has several."""
    values = interpreter.get_tensor(detail["index"]).astype(np.float32)
    quantization = detail["quantization_parameters"]
    scales, zero_points = quantization["scales"], quantization["zero_points"]
    if detail["dtype"] == np.float32 or len(scales) == 0:
        return values
    shape = [1] * values.ndim
    if len(scales) > 1:
        shape[quantization["quantized_dimension"]] = len(scales)
    return (values - zero_points.reshape(shape).astype(np.float32)) * scales.reshape(shape).astype(np.float32)


def read_convolutions(path):
    """{Keras layer name: (kernel in Keras layout, bias)} for every convolution in the TFLite file."""
    from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 (LiteRT has no Windows wheels; Keras runs there)

    interpreter = Interpreter(model_path=str(path))
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    convolutions = {}
    for op in interpreter._get_ops_details():  # the public API lists tensors, not which op uses them
        if op["op_name"] not in CONVOLUTIONS:
            continue
        _, kernel_index, bias_index = op["inputs"]
        name = keras_name(details[kernel_index]["name"])
        if name in convolutions:
            raise PretrainedWeightsError(f"{path.name}: two convolutions map to the Keras layer {name}")
        kernel = dequantize(interpreter, details[kernel_index]).transpose(CONVOLUTIONS[op["op_name"]])
        convolutions[name] = (kernel, dequantize(interpreter, details[bias_index]))
    if not convolutions:
        raise PretrainedWeightsError(f"{path.name} holds no convolutions")
    return convolutions


def _checked(value, weight, what):
    if value.shape != tuple(weight.shape):
        raise PretrainedWeightsError(f"{what} has shape {value.shape}, the Keras layer needs {tuple(weight.shape)}")
    return value.astype(weight.dtype.as_numpy_dtype)


def load_weights(network, calibration_images, class_names, source=None):
    """Fill every convolution of ``deeplab.DeepLabV3Plus`` ``network`` from the TFLite file.

    ``calibration_images``: a few real photos, normalised, at the network's input size (they
    set the batch norms).  ``class_names``: the network's classes, which decide the logits'
    start (module docstring).  Returns the number of convolutions loaded.
    """
    path = tflite_path(source)
    convolutions = read_convolutions(path)
    layers = {layer.name: layer for layer in network.layers
              if isinstance(layer, (tf.keras.layers.Conv2D, tf.keras.layers.DepthwiseConv2D))}
    unmatched = sorted(set(convolutions) - set(layers))
    unfilled = sorted(set(layers) - set(convolutions))
    if unmatched or unfilled:
        raise PretrainedWeightsError(f"{path.name} and DeepLabV3+ disagree: file convolutions without a layer "
                                     f"{unmatched[:5]}, layers without weights {unfilled[:5]}")
    starts = starting_classes(class_names)
    biases = {}
    for name, layer in layers.items():
        kernel, bias = convolutions[name]
        if name == LOGITS:
            if starts is not None:
                layer.set_weights([_checked(kernel[..., starts], layer.kernel, name),
                                   _checked(bias[starts], layer.bias, f"{name} bias")])
            continue
        if layer.use_bias:
            raise PretrainedWeightsError(f"layer {name} has a bias; a folded convolution's bias belongs to its batch norm")
        layer.set_weights([_checked(kernel, layer.weights[0], name)])
        batchnorm = network.get_layer(f"{name}_BN")
        biases[batchnorm] = _checked(bias, batchnorm.beta, f"{name} bias")
    images = np.asarray(calibration_images, np.float32)
    if images.ndim != 4 or len(images) == 0:
        raise PretrainedWeightsError("DeepLabV3+'s folded batch norms need calibration photos (N, H, W, 3)")
    folded_batchnorm.unfold(network.input, biases, images)
    return len(layers) if starts is not None else len(layers) - 1


def is_ade20k(source):
    """Whether ``source`` (``--encoder-weights``) names the ADE20K file or a folder holding it."""
    path = Path(source)
    return path.suffix == ".tflite" or (path / DEFAULT_FILE).is_file()


def load_encoder(network, calibration_images, source=None, imagenet_folder=pretrained.SHARED_WEIGHTS):
    """ADE20K's MobileNetV2 into segmentation-models' MobileNetV2 encoder of U-Net, FPN or PSPNet.

    The same blocks under Keras' names (``block_3_expand`` is the file's ``expanded_conv_3/expand``);
    Keras' block 13 halves the map where DeepLab dilates, which the weights allow.  The file has no
    1280-channel ``Conv_1`` (U-Net and FPN end on it): that one keeps the ImageNet arrays, loaded
    first.  Returns the number of convolutions taken from the file.
    """
    pretrained.load_encoder_weights(network, "mobilenetv2", imagenet_folder)
    convolutions = read_convolutions(tflite_path(source))
    biases = {}
    for layer in network.layers:
        slim = pretrained.slim_prefix(layer.name)
        if slim is None or slim[1] or slim[0] not in convolutions:
            continue  # batch norms are set below; Conv_1 keeps ImageNet's
        kernel, bias = convolutions[slim[0]]
        layer.set_weights([_checked(kernel, layer.weights[0], layer.name)])
        batchnorm = network.get_layer("bn_Conv1" if layer.name == "Conv1" else f"{layer.name}_BN")
        biases[batchnorm] = _checked(bias, batchnorm.beta, f"{layer.name} bias")
    if not biases:
        raise PretrainedWeightsError(f"{network.name} has none of the MobileNetV2 layers of the ADE20K file")
    folded_batchnorm.unfold(network.input, biases, np.asarray(calibration_images, np.float32))
    return len(biases)
