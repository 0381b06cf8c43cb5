"""What atrous convolution buys DeepLabV3+, measured on the network itself.

``python -m segdemo.inside.atrous [CHECKPOINT] [--rounds N] [--json FILE]`` builds DeepLabV3+ three times
at the checkpoint's input size (288x384): at output stride 16 with its late blocks dilated (DeepLab's
default), at 8 with them dilated from one block earlier and twice as much (DeepLab's finest setting), and
as plain MobileNetV2 would be, at output stride 32 with nothing dilated.  All hold exactly the same
weights (dilation adds none), so the comparison isolates the idea; the checkpoint's own output stride is
marked as shipped and the times are given as ratios to it.  For each it reports the
encoder's deepest map (how many positions the ASPP head sees), the theoretical receptive field
of its centre unit (walked in the Keras graph by ``receptive``), the parameters, and the time of
one photo (median of interleaved rounds, one thread, float32 Keras); with a checkpoint, also the
scores on the 143 validation photos of its weights run both ways.
"""
import argparse
import json
import time

import numpy as np
import tensorflow as tf

from segdemo.inside.receptive import receptive_field
from segdemo.networks import deeplab
from segdemo.networks.models import ModelConfig, PixelNormalisation, load_weights

DEEPEST = "expanded_conv_16_project_BN"
OUTPUT_STRIDES = (8, 16, 32)  # dilated twice over (DeepLab's finest), DeepLab's default, plain MobileNetV2


def network_at(config, output_stride):
    """The checkpoint's network (RGB in, probabilities out) with the encoder at ``output_stride``."""
    inputs = tf.keras.Input((config.height, config.width, 3), name="rgb")
    decoder = deeplab.DeepLabV3Plus(config.backbone, (config.height, config.width, 3), len(config.classes),
                                    output_stride=output_stride)
    probabilities = tf.keras.layers.Activation("softmax", dtype="float32")(
        decoder(PixelNormalisation(**config.normalisation, name="normalise")(inputs)))
    return tf.keras.Model(inputs, probabilities), decoder


def encoder_facts(decoder):
    """(deepest map height, width, centre unit's theoretical field height, width)."""
    encoder = tf.keras.Model(decoder.input, decoder.get_layer(DEEPEST).output)
    field = receptive_field(encoder)
    height, width = encoder.output_shape[1:3]
    return height, width, *field.size(height // 2, width // 2)


def timed(models, photo, rounds, reference=0):
    """Median milliseconds per photo of each model, the models interleaved within every round, and the median
    ratio of each one's time to the ``reference``-th model's in the same round."""
    samples = [[] for _ in models]
    for model in models:
        model(photo)  # trace once
    for _ in range(rounds):
        for index, model in enumerate(models):
            started = time.perf_counter()
            model(photo)
            samples[index].append(1000 * (time.perf_counter() - started))
    return [float(np.median(s)) for s in samples], [float(np.median(np.array(s) / np.array(samples[reference]))) for s in samples]


def validation_scores(model, config):
    from segdemo.data import load_dataset, load_split  # noqa: PLC0415 (only with a checkpoint)
    from segdemo.data.labels import get_label_set  # noqa: PLC0415
    from segdemo.imaging import resize  # noqa: PLC0415
    from segdemo.networks import metrics  # noqa: PLC0415
    from segdemo.serving.inference import full_resolution_labels  # noqa: PLC0415 (scored as evaluate scores)

    label_set = get_label_set(config.label_set)
    dataset = load_dataset(label_set)
    val = dataset.subset(load_split(dataset.ids)[1])
    matrix = 0
    for photo, truth in zip(val.images, val.masks):
        probabilities = model(resize(np.asarray(photo, np.float32), (config.height, config.width))[None])[0].numpy()
        labels, _ = full_resolution_labels(probabilities, *photo.shape[:2])
        matrix = matrix + metrics.confusion_matrix(truth, labels, label_set.num_classes)
    summary = metrics.summarize(matrix, label_set.classes)
    return {"pixel_accuracy": summary["pixel_accuracy"], "miou": summary["miou"]}


def measure(checkpoint=None, rounds=9):
    tf.config.threading.set_intra_op_parallelism_threads(1)
    config = ModelConfig.load(checkpoint) if checkpoint else ModelConfig(arch="deeplabv3plus", backbone="mobilenetv2",
                                                                         label_set="regions")
    rows = []
    models = []
    strides = sorted(OUTPUT_STRIDES)
    for output_stride in strides:
        model, decoder = network_at(config, output_stride)
        if checkpoint:
            load_weights(model, checkpoint)
        height, width, field_height, field_width = encoder_facts(decoder)
        rows.append({"output_stride": output_stride, "atrous": output_stride < 32, "shipped": output_stride == config.output_stride,
                     "deepest_map": [height, width], "centre_field": [field_height, field_width],
                     "parameters": int(model.count_params())})
        models.append(model)
    photo = np.random.default_rng(0).uniform(0, 255, (1, config.height, config.width, 3)).astype(np.float32)
    milliseconds, ratios = timed(models, photo, rounds, reference=strides.index(config.output_stride))
    for row, ms, ratio, model in zip(rows, milliseconds, ratios, models):
        row.update(milliseconds=round(ms, 1), time_ratio=round(ratio, 2))
        if checkpoint:
            row.update(validation_scores(model, config))
    return {"input": [config.height, config.width], "rounds": rounds, "checkpoint": str(checkpoint or ""), "rows": rows}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m segdemo.inside.atrous", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", nargs="?", help="a DeepLabV3+ checkpoint folder (its weights, its scores at each output stride)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = measure(args.checkpoint, args.rounds)
    for row in result["rows"]:
        scores = f", pixel accuracy {row['pixel_accuracy']:.3f}, mIoU {row['miou']:.3f}" if "miou" in row else ""
        shipped = ", as shipped" if row["shipped"] else ""
        print(f"output stride {row['output_stride']} ({'atrous' if row['atrous'] else 'no atrous'}{shipped}): deepest map "
              f"{row['deepest_map'][0]}x{row['deepest_map'][1]}, centre field {row['centre_field'][0]}x{row['centre_field'][1]} px, "
              f"{row['parameters']:,} parameters, {row['milliseconds']} ms ({row['time_ratio']}x){scores}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
