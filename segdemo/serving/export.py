"""``python -m segdemo.serving.export checkpoints/NAME ...``: run each checkpoint the fastest way that keeps its answers.

Candidates: the Keras model traced in the CPU's best precision (bfloat16 where native), and
two LiteRT conversions of the float32 model run by XNNPACK: float32, and int8 weights
(dynamic-range quantisation; activations are quantised on the fly).  Each is timed on one
input-sized image and scored against the float32 Keras model on the checkpoint's validation
photos (``segdemo.serving.fidelity``).  The fastest one that meets the bar is kept: its file as
``network.tflite`` (in parts when large), and every candidate's figures in ``engine.json``,
which the app reads (``segdemo.serving.engine``).  Needs the dataset: no bar, no export.
"""
import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

from segdemo.data import DatasetError
from segdemo.networks import shards
from segdemo.networks.checkpoint import ENGINE_FILE, METRICS_FILE, NETWORK_FILE, read_record, record_command, write_record
from segdemo.networks.hardware import choose_precision, describe_machine
from segdemo.networks.models import CheckpointError, load_checkpoint, weights_digest
from segdemo.serving import fidelity
from segdemo.serving.engine import KERAS, LiteNetwork
from segdemo.serving.inference import Segmenter
from segdemo.serving.page_runtime import PAGE_NETWORK_FILE, PAGE_RECORD_FILE

LITERT_WAYS = {"litert-float32": ("LiteRT float32", False), "litert-int8-weights": ("LiteRT int8 weights", True)}


def convert(model, quantize):
    """The float32 Keras ``model`` as LiteRT flatbuffer bytes for one image, weights int8 if ``quantize``."""
    height, width = model.input_shape[1:3]
    forward = tf.function(lambda batch: model(batch, training=False),
                          input_signature=[tf.TensorSpec((1, height, width, 3), tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([forward.get_concrete_function()], model)
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def candidates(folder, reference):
    """(key, segmenter, LiteRT bytes or None) for every way of running the checkpoint."""
    precision = choose_precision()
    yield KERAS, (reference if precision == "float32" else Segmenter(folder, precision=precision)), None
    for key, (title, quantize) in LITERT_WAYS.items():
        content = convert(reference.model, quantize)
        yield key, Segmenter(folder, precision="float32", network=LiteNetwork(content, title)), content


def export(folder, data=None, repeats=15, log=print):
    """Score every candidate for ``folder``, keep the fastest that meets the bar, return engine.json's content."""
    folder = Path(folder)
    reference = Segmenter(folder, precision="float32")
    split = (read_record(folder, METRICS_FILE) or {}).get("split", "fixed")
    images, truths, described = fidelity.validation_images(reference.config.label_set, split, data)
    answers = fidelity.reference_answers(reference, images, truths)
    batch = np.random.default_rng(0).uniform(0, 255, (1, *reference.size, 3)).astype(np.float32)
    rows, files = [], {}
    for key, segmenter, content in candidates(folder, reference):
        scores = fidelity.agreement(segmenter, images, answers, truths)
        row = {"engine": key, "title": segmenter.engine, "ms": fidelity.timed(lambda: segmenter.network(batch), repeats)[0],
               **scores, "meets_bar": fidelity.meets_bar(scores)}
        if content is not None:
            row["bytes"] = len(content)
            files[key] = content
        log(f"{folder.name}: {row['title']}: {row['ms']:.1f} ms, labels equal {100 * row['equal']:.2f}%, "
            f"mIoU {row['miou']:.4f} vs float32 {row['miou_float32']:.4f}, bar {'met' if row['meets_bar'] else 'missed'}")
        rows.append(row)
    # with no way meeting the bar, the app keeps running Keras as it does without an export
    kept = min((row for row in rows if row["meets_bar"]), key=lambda row: row["ms"], default=rows[0])
    for old in shards.stored_files(folder / NETWORK_FILE):
        old.unlink()
    if kept["engine"] in files:
        shards.write(folder / NETWORK_FILE, files[kept["engine"]])
    choice = {"engine": kept["engine"], "title": kept["title"], "weights_sha256": weights_digest(folder),
              "validated_on": f"{described} ({split} split)", "machine": describe_machine(),
              "tensorflow": tf.__version__, "bar": {"labels_equal": fidelity.AGREEMENT_BAR,
                                                    "miou_tolerance": fidelity.MIOU_TOLERANCE},
              "candidates": rows}
    write_record(folder, ENGINE_FILE, choice)
    log(f"{folder.name}: kept {kept['title']}")
    return choice


def is_current(folder):
    """Whether ``folder``'s engine.json was made from the weights beside it."""
    choice = read_record(folder, ENGINE_FILE)
    return bool(choice) and choice.get("weights_sha256") == weights_digest(folder)


# The page's network: what the Live tab runs in the browser (segdemo.serving.live).  The frame goes
# in as the canvas gives it (RGBA bytes at the input size) and labels, colours and class counts
# come out, so the page does no arithmetic per pixel.  Float16 weights: the checkpoint stores
# float16 anyway, the file is half the float32 one, and XNNPACK runs it in float32 (int8
# weights, as network.tflite, ran slower in WebAssembly).
def page_function(model, colours, integers=tf.uint8):
    """The page network's computation.  In: ``frame``, uint8 RGBA (1, H, W, 4) at the input size.  Out, at
    the same size: ``labels``, RGBA ``colours`` (both as ``integers``), and ``counts``, pixels per class.
    The output size is fixed: LiteRT.js 2.5.3 failed to run a network whose outputs take their size from
    an input.  (TensorFlow.js has no uint8 tensors: ``tools.tfjs_bench`` asks for int32.)"""
    height, width = model.input_shape[1:3]
    palette = tf.constant([[*colour, 255] for colour in colours], integers)

    def forward(frame):
        labels = tf.argmax(model(tf.cast(frame[..., :3], tf.float32), training=False), axis=-1, output_type=tf.int32)
        counts = tf.reduce_sum(tf.one_hot(labels, len(colours), dtype=tf.float32), axis=(0, 1, 2))
        return {"labels": tf.cast(labels, integers), "colours": tf.gather(palette, labels), "counts": counts}

    return tf.function(forward, input_signature=[tf.TensorSpec((1, height, width, 4), tf.uint8, name="frame")])


def page_network(model, colours):
    """LiteRT bytes of ``page_function``."""
    function = page_function(model, colours)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def export_page(folder, log=print):
    """Write ``folder``'s page network and its record (the weights it was made from); return the record."""
    model, config = load_checkpoint(folder, "float32")
    content = page_network(model, config.colours)
    Path(folder, PAGE_NETWORK_FILE).write_bytes(content)
    record = {"weights_sha256": weights_digest(folder), "input": [config.height, config.width, 4],
              "bytes": len(content), "tensorflow": tf.__version__}
    write_record(folder, PAGE_RECORD_FILE, record)
    log(f"{Path(folder).name}: {PAGE_NETWORK_FILE}, {len(content) / 1e6:.1f} MB")
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m segdemo.serving.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("--data", help="data folder (default: $SEGDEMO_DATA, then ../shared, then the cache)")
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per candidate")
    parser.add_argument("--stale-only", action="store_true",
                        help="skip checkpoints whose engine.json was made from the weights beside it, "
                             "so a re-run keeps the figures measured before")
    parser.add_argument("--page", action="store_true",
                        help=f"write only the network the Live tab runs in the browser ({PAGE_NETWORK_FILE}); no dataset needed")
    args = parser.parse_args(argv)
    for folder in args.checkpoints:
        if args.page:
            export_page(folder)
            record_command(folder, f"python -m segdemo.serving.export --page {shlex.quote(str(folder))}")
            continue
        if args.stale_only and is_current(folder):
            print(f"{folder.name}: engine.json matches its weights, kept")
            continue
        try:
            export(folder, args.data, args.repeats)
        except (CheckpointError, DatasetError) as error:
            print(f"error: {folder}: {error}", file=sys.stderr)
            return 1
        record_command(folder, "python -m segdemo.serving.export " + shlex.join([str(folder), *(["--data", args.data] if args.data else [])]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
